package io.sdj.sampling;

import io.sdj.InvalidParameterException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchedulerTest {
    private final SigmaTable table = SigmaTable.fromAlphasCumprod(SigmaTableTest.f16RoundedLdmAlphasCumprod());

    private float[] atTimesteps(float... ts) {
        float[] out = new float[ts.length + 1];
        for (int i = 0; i < ts.length; i++) {
            out[i] = table.tToSigma(ts[i]);
        }
        return out;
    }

    @Test
    void discreteSpacesTimestepsEvenlyFrom999To0() {
        assertArrayEquals(atTimesteps(999f, 666f, 333f, 0f), Scheduler.DISCRETE.sigmas(4, table), 0f);
        float[] two = Scheduler.DISCRETE.sigmas(2, table);
        assertEquals(14.6123, two[0], 1e-4);
        assertEquals(0.031265, two[1], 1e-6);
        assertEquals(0f, two[2], 0f);
        assertArrayEquals(atTimesteps(999f), Scheduler.DISCRETE.sigmas(1, table), 0f);
        assertEquals(0, Scheduler.DISCRETE.sigmas(0, table).length);
    }

    @Test
    void discreteStepsWithFloatRoundingBelowZeroStayFinite() {
        float[] s = Scheduler.DISCRETE.sigmas(22, table);
        assertEquals(23, s.length);
        assertTrue(Float.isFinite(s[21]) && s[21] > 0 && s[21] < s[20]);
    }

    @Test
    void karrasRunsFromSigmaMaxToSigmaMin() {
        float[] s = Scheduler.KARRAS.sigmas(3, table);
        assertEquals(4, s.length);
        assertEquals(table.sigmaMax(), s[0], table.sigmaMax() * 1e-6);
        assertEquals(table.sigmaMin(), s[2], table.sigmaMin() * 1e-5);
        assertEquals(0f, s[3], 0f);
        double maxInv = Math.pow(table.sigmaMax(), 1 / 7.0);
        double minInv = Math.pow(table.sigmaMin(), 1 / 7.0);
        assertEquals(Math.pow((maxInv + minInv) / 2, 7), s[1], 1e-5);
        assertArrayEquals(new float[] {table.sigmaMax(), 0f}, Scheduler.KARRAS.sigmas(1, table), 0f);
    }

    @Test
    void exponentialIsEvenInLogSigma() {
        float[] s = Scheduler.EXPONENTIAL.sigmas(5, table);
        assertEquals(table.sigmaMax(), s[0], 1e-5);
        assertEquals(table.sigmaMin(), s[4], 1e-6);
        for (int i = 1; i < 4; i++) {
            assertEquals(Math.log(s[i - 1]) - Math.log(s[i]), Math.log(s[i]) - Math.log(s[i + 1]), 1e-5);
        }
    }

    @Test
    void lcmUsesTheFiftyStepTrainingGrid() {
        assertArrayEquals(atTimesteps(999f, 759f, 499f, 259f), Scheduler.LCM.sigmas(4, table), 0f);
        // (i * 50) / n in integers: 0, 16, 33 -> t = 999, 679, 339
        assertArrayEquals(atTimesteps(999f, 679f, 339f), Scheduler.LCM.sigmas(3, table), 0f);
    }

    @Test
    void simpleAndSgmUniformAndSmoothstep() {
        assertArrayEquals(atTimesteps(999f, 749f, 499f, 249f), Scheduler.SIMPLE.sigmas(4, table), 0f);
        assertArrayEquals(atTimesteps(999f, 749.25f, 499.5f, 249.75f), Scheduler.SGM_UNIFORM.sigmas(4, table), 0f);
        // u = 1, 0.75, 0.5, 0.25 -> smoothstep 1, 0.84375, 0.5, 0.15625 -> round(999 *) = 999, 843, 500, 156
        assertArrayEquals(atTimesteps(999f, 843f, 500f, 156f), Scheduler.SMOOTHSTEP.sigmas(4, table), 0f);
    }

    @Test
    void alignYourStepsSd15() {
        float[] ten = Scheduler.AYS.sigmas(10, table);
        assertEquals(14.6146412293f, ten[0], 0f);
        assertEquals(0.1515232662f, ten[9], 0f);
        assertEquals(0f, ten[10], 0f);
        // 4 steps: the 11 levels are resampled (log-linear) at 5 evenly spaced positions and the last one, which
        // would be sigma_min, is replaced by 0 as sd.cpp does.
        float[] four = Scheduler.AYS.sigmas(4, table);
        assertEquals(5, four.length);
        assertEquals(14.6146412293, four[0], 1e-4);
        assertEquals(Math.sqrt(2.6946151520 * 3.8636745985), four[1], 1e-4);
        assertEquals(1.3943805092, four[2], 1e-5);
        assertEquals(Math.sqrt(0.3977456272 * 0.6523686016), four[3], 1e-5);
        assertEquals(0f, four[4], 0f);
    }

    @Test
    void everyScheduleDescendsToZero() {
        for (Scheduler s : Scheduler.values()) {
            for (int steps : new int[] {1, 2, 4, 9, 20, 30}) {
                float[] sig = s.sigmas(steps, table);
                assertEquals(steps + 1, sig.length, s + " " + steps);
                assertEquals(0f, sig[steps], 0f, s + " " + steps);
                for (int i = 1; i <= steps; i++) {
                    assertTrue(sig[i] < sig[i - 1] || (sig[i] == 0 && sig[i - 1] == 0),
                            s + " " + steps + " at " + i + ": " + java.util.Arrays.toString(sig));
                }
                if (!(s == Scheduler.BONG_TANGENT && steps == 1)) { // sd.cpp's 1-step bong_tangent is [middle, 0]
                    assertTrue(sig[0] > 10f && sig[0] < 15f, s + " starts near sigma_max: " + sig[0]);
                }
            }
        }
    }

    @Test
    void namesAndDefaults() {
        assertEquals(Scheduler.KARRAS, Scheduler.fromName("karras"));
        assertEquals(Scheduler.SGM_UNIFORM, Scheduler.fromName("sgm_uniform"));
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> Scheduler.fromName("Karras"));
        assertEquals("scheduler", e.parameter());
        assertTrue(e.getMessage().contains("discrete, karras"), e.getMessage());
        assertEquals(Scheduler.LCM, Scheduler.defaultFor(SamplerKind.LCM));
        assertEquals(Scheduler.LCM, Scheduler.defaultFor(SamplerKind.TCD));
        assertEquals(Scheduler.SIMPLE, Scheduler.defaultFor(SamplerKind.DDIM_TRAILING));
        assertEquals(Scheduler.DISCRETE, Scheduler.defaultFor(SamplerKind.EULER_A));
        assertThrows(InvalidParameterException.class, () -> Scheduler.DISCRETE.sigmas(-1, table));
    }

    @Test
    void img2imgCutsTheScheduleLikeSdCpp() {
        float[] full = Scheduler.DISCRETE.sigmas(4, table);
        Img2ImgSchedule cut = Img2ImgSchedule.of(full, 4, 0.6f);
        assertEquals(2, cut.tEnc(), "golden c09 logs 'target t_enc is 2 steps'");
        assertArrayEquals(java.util.Arrays.copyOfRange(full, 1, 5), cut.sigmas(), 0f);
        assertEquals(3, cut.steps());

        Img2ImgSchedule whole = Img2ImgSchedule.of(full, 4, 1.0f);
        assertArrayEquals(full, whole.sigmas(), 0f);
        assertEquals(4, whole.steps());

        Img2ImgSchedule default075 = Img2ImgSchedule.of(Scheduler.DISCRETE.sigmas(20, table), 20, 0.75f);
        assertEquals(15, default075.tEnc());
        assertEquals(16, default075.steps());

        Img2ImgSchedule zero = Img2ImgSchedule.of(full, 4, 0f);
        assertEquals(0, zero.tEnc());
        assertArrayEquals(new float[] {full[3], 0f}, zero.sigmas(), 0f);

        assertThrows(InvalidParameterException.class, () -> Img2ImgSchedule.of(full, 4, 1.5f));
        assertThrows(InvalidParameterException.class, () -> Img2ImgSchedule.of(full, 3, 0.5f));
    }
}
