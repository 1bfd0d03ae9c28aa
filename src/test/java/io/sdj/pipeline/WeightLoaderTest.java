package io.sdj.pipeline;

import io.sdj.family.ModelFamilies;
import io.sdj.family.ModelFamily;
import io.sdj.model.DType;
import io.sdj.model.LdmLayout;
import io.sdj.model.ModelConfig;
import io.sdj.model.ModelFormatException;
import io.sdj.model.SafetensorsFile;
import io.sdj.model.StoredRegion;
import io.sdj.model.TensorInfo;
import io.sdj.model.TensorSource;
import io.sdj.model.TinySd15Writer;
import io.sdj.runtime.Backend;
import io.sdj.runtime.GgmlType;
import io.sdj.runtime.Tensor;
import io.sdj.runtime.WeightStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Memory-mapped and parallel loading give the same weights, byte for byte, as the plain one-thread copy; mapping
 * is copy-on-write; a failing tensor read in a worker surfaces as its own typed exception.
 */
class WeightLoaderTest {
    @TempDir
    Path dir;

    private static WeightStore load(TensorSource src, Backend be, GgmlType type, WeightLoader.Options o) {
        ModelFamily fam = ModelFamilies.detect(src);
        ModelConfig config = fam.configure(src);
        return WeightLoader.load(src, LdmLayout.expectedTensors(config).keySet(), config.components(), be,
                fam.weightTypes(type), "test", o, (d, t) -> { });
    }

    private static byte[] bytes(Tensor t) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(t.byteSize());
            t.read(m);
            return m.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }

    private static void assertSameWeights(WeightStore expected, WeightStore actual) {
        assertEquals(expected.tensors().keySet(), actual.tensors().keySet());
        for (Map.Entry<String, Tensor> e : expected.tensors().entrySet()) {
            Tensor a = actual.get(e.getKey());
            assertEquals(e.getValue().type(), a.type(), e.getKey());
            assertArrayEquals(bytes(e.getValue()), bytes(a), e.getKey());
        }
    }

    @Test
    void mappedAndParallelLoadsEqualThePlainCopy() {
        Path file = TinySd15Writer.sdxl().write(dir.resolve("sdxl.safetensors"));
        try (SafetensorsFile src = SafetensorsFile.open(file); Backend be = Backend.cpu()) {
            for (GgmlType type : new GgmlType[]{null, GgmlType.Q8_0, GgmlType.Q4_0}) {
                try (WeightStore plain = load(src, be, type, new WeightLoader.Options(false, 1));
                     WeightStore mapped = load(src, be, type, new WeightLoader.Options(true, 1));
                     WeightStore parallel = load(src, be, type, new WeightLoader.Options(true, 3))) {
                    assertEquals(0, plain.hostBytes());
                    assertTrue(mapped.hostBytes() > 0, "F16 kernels are used as stored, so they are mapped");
                    if (type == null) {
                        assertTrue(mapped.hostBytes() > plain.bufferBytes() / 2,
                                "with the file's types most weights are mapped: " + mapped.hostBytes());
                    }
                    assertEquals(mapped.hostBytes(), parallel.hostBytes());
                    assertSameWeights(plain, mapped);
                    assertSameWeights(plain, parallel);
                }
            }
        }
    }

    @Test
    void mappingIsCopyOnWrite() throws Exception {
        Path file = TinySd15Writer.builder().dtype(DType.F32).write(dir.resolve("f32.safetensors"));
        byte[] before = Files.readAllBytes(file);
        try (SafetensorsFile src = SafetensorsFile.open(file); Backend be = Backend.cpu();
             WeightStore ws = load(src, be, null, WeightLoader.Options.DEFAULT)) {
            Tensor bias = ws.get("model.diffusion_model.out.2.bias");
            float[] v = new float[(int) bias.elementCount()];
            Arrays.fill(v, 42f);
            bias.setFloats(v);
            assertArrayEquals(v, bias.getFloats(), 0f);
        }
        assertArrayEquals(before, Files.readAllBytes(file), "writing a mapped weight leaves the file alone");
    }

    @Test
    void aFailingReadInAWorkerIsRethrownAndTheStoreFreed() {
        Path file = TinySd15Writer.builder().write(dir.resolve("tiny.safetensors"));
        try (SafetensorsFile src = SafetensorsFile.open(file); Backend be = Backend.cpu()) {
            String victim = "model.diffusion_model.out.0.bias";
            TensorSource failing = new TensorSource() {
                public Path path() { return src.path(); }
                public Map<String, TensorInfo> tensors() { return src.tensors(); }
                public Map<String, String> metadata() { return src.metadata(); }
                public float[] readFloats(String name) { return src.readFloats(name); }
                public Optional<StoredRegion> storedRegion(TensorInfo t) { return src.storedRegion(t); }
                public void close() { }
                public void read(TensorInfo t, MemorySegment dst) {
                    if (t.name().equals(victim)) {
                        throw new ModelFormatException(src.path(), t.name(), "the file ends inside this tensor's data");
                    }
                    src.read(t, dst);
                }
            };
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> load(failing, be, GgmlType.Q8_0, new WeightLoader.Options(true, 3)));
            assertTrue(e.getMessage().contains(victim), e.getMessage());
        }
    }
}
