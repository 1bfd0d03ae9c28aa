package io.sdj.sampling;

import io.sdj.InvalidParameterException;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * sd.cpp's {@code --scheduler} choices that sdj implements: how {@code n} sampling sigmas are picked. Every schedule
 * has {@code n + 1} entries, descending, the last one 0.
 *
 * <p>sd.cpp's own default when {@code --scheduler} is not given is {@link #defaultFor(SamplerKind)}; an explicit
 * {@code --scheduler discrete} with {@code --sampling-method lcm} really uses the discrete schedule.
 */
public enum Scheduler {
    /** Timesteps evenly spaced from 999 to 0: {@code t_i = 999 - (999 / (n-1)) * i} (float), sigma by {@link SigmaTable#tToSigma}. */
    DISCRETE("discrete"),
    /** Karras et al. (rho = 7) between the table's sigma_min and sigma_max. */
    KARRAS("karras"),
    /** Evenly spaced in log-sigma between sigma_max and sigma_min. */
    EXPONENTIAL("exponential"),
    /** Align Your Steps, SD1.5 reference levels (log-linear interpolated to n + 1 points). */
    AYS("ays"),
    /** Timesteps {@code linspace(999, 0, n + 1)} (accumulated in float), the last one replaced by sigma 0. */
    SGM_UNIFORM("sgm_uniform"),
    /** Timesteps {@code 999 - (int)(i * 1000 / n)}. */
    SIMPLE("simple"),
    /** Timesteps {@code round(999 * smoothstep(1 - i/n))}. */
    SMOOTHSTEP("smoothstep"),
    /** Evenly spaced in {@code atan(sigma)} between sigma_max and sigma_min. */
    KL_OPTIMAL("kl_optimal"),
    /** LCM's 50-step training grid: {@code t_i = (50 - (i*50)/n) * 20 - 1} (integer arithmetic). */
    LCM("lcm"),
    /** Two arctangent ramps (sigma_max to the midpoint, midpoint to sigma_min). */
    BONG_TANGENT("bong_tangent");

    private final String cliName;

    Scheduler(String cliName) {
        this.cliName = cliName;
    }

    /** The name as sd.cpp spells it. */
    public String cliName() {
        return cliName;
    }

    /**
     * The {@code steps + 1} sigmas of this schedule for a model with the given table (empty for 0 steps, except
     * {@link #SGM_UNIFORM} which gives {@code [0]} as sd.cpp does).
     *
     * @throws InvalidParameterException if {@code steps} is negative
     */
    public float[] sigmas(int steps, SigmaTable table) {
        if (steps < 0) {
            throw new InvalidParameterException("steps", "must be >= 0, got " + steps);
        }
        return switch (this) {
            case DISCRETE -> SigmaSchedules.discrete(steps, table);
            case KARRAS -> SigmaSchedules.karras(steps, table.sigmaMin(), table.sigmaMax());
            case EXPONENTIAL -> SigmaSchedules.exponential(steps, table.sigmaMin(), table.sigmaMax());
            case AYS -> SigmaSchedules.alignYourStepsSd15(steps);
            case SGM_UNIFORM -> SigmaSchedules.sgmUniform(steps, table);
            case SIMPLE -> SigmaSchedules.simple(steps, table);
            case SMOOTHSTEP -> SigmaSchedules.smoothstep(steps, table);
            case KL_OPTIMAL -> SigmaSchedules.klOptimal(steps, table.sigmaMin(), table.sigmaMax());
            case LCM -> SigmaSchedules.lcm(steps, table);
            case BONG_TANGENT -> SigmaSchedules.bongTangent(steps, table.sigmaMin(), table.sigmaMax());
        };
    }

    /**
     * sd.cpp's default scheduler for an eps/v CompVis model when none is given: {@link #LCM} for the lcm and tcd
     * samplers, {@link #SIMPLE} for ddim_trailing, {@link #DISCRETE} otherwise.
     */
    public static Scheduler defaultFor(SamplerKind sampler) {
        return switch (sampler) {
            case LCM, TCD -> LCM;
            case DDIM_TRAILING -> SIMPLE;
            default -> DISCRETE;
        };
    }

    /**
     * Looks a scheduler up by its sd.cpp name.
     *
     * @throws InvalidParameterException naming {@code scheduler} and listing the valid names
     */
    public static Scheduler fromName(String name) {
        for (Scheduler s : values()) {
            if (s.cliName.equals(name)) {
                return s;
            }
        }
        throw new InvalidParameterException("scheduler", "unknown scheduler '" + name + "'; valid: "
                + Arrays.stream(values()).map(Scheduler::cliName).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return cliName;
    }
}
