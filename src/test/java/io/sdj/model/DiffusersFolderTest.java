package io.sdj.model;

import io.sdj.InvalidParameterException;
import io.sdj.family.ModelFamilies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A diffusers folder reads as the LDM single file it was made from: the same names, shapes and bytes. */
class DiffusersFolderTest {
    @TempDir
    Path dir;

    private static TinySd15Writer.Builder tiny(TinySd15Writer.Family f) {
        return switch (f) {
            case SD1 -> TinySd15Writer.builder().alphasCumprod(false);
            case SD2 -> TinySd15Writer.sd2().alphasCumprod(false).numResBlocks(2);
            case SDXL -> TinySd15Writer.sdxl();
        };
    }

    private Path folder(TinySd15Writer.Family f, DiffusersFixture.VaeAttention names) {
        TinySd15Writer.Builder b = tiny(f);
        Path single = b.write(dir.resolve(f + ".safetensors"));
        return DiffusersFixture.writeFolder(single, b.config(), f, dir.resolve(f + "-" + names + "-folder"), names,
                GoldenModel.merges());
    }

    @Test
    void everyTensorOfTheSingleFileWithItsBytes() {
        for (TinySd15Writer.Family f : TinySd15Writer.Family.values()) {
            for (DiffusersFixture.VaeAttention names : DiffusersFixture.VaeAttention.values()) {
                Path folder = folder(f, names);
                Map<String, DiffusersFixture.Blob> expected = DiffusersFixture.readAll(dir.resolve(f + ".safetensors"));
                try (CompositeSource c = DiffusersFolder.open(folder)) {
                    Set<String> extra = new TreeSet<>(c.tensors().keySet());
                    extra.removeAll(expected.keySet());
                    Set<String> missing = new TreeSet<>(expected.keySet());
                    missing.removeAll(c.tensors().keySet());
                    if (f == TinySd15Writer.Family.SD2) {
                        // diffusers' SD 2.x text encoder has no projection: an identity stands for it
                        float[] eye = c.readFloats("cond_stage_model.model.text_projection");
                        assertEquals(64 * 64, eye.length);
                        assertEquals(1f, eye[65]);
                        assertEquals(0f, eye[1]);
                    }
                    assertEquals(Set.of(), extra, f + ": names the single file lacks");
                    assertEquals(Set.of(), missing, f + ": names the folder lacks");
                    try (Arena arena = Arena.ofConfined()) {
                        for (DiffusersFixture.Blob e : expected.values()) {
                            TensorInfo t = c.tensors().get(e.name());
                            if (f == TinySd15Writer.Family.SD2 && e.name().endsWith("text_projection")) {
                                assertTrue(t.hasShape(64, 64));
                                continue;
                            }
                            assertArrayEquals(e.shape(), t.shape(), e.name());
                            assertEquals(e.dtype(), t.dtype(), e.name());
                            MemorySegment seg = arena.allocate(t.byteSize());
                            c.read(t, seg);
                            assertArrayEquals(e.data(), seg.toArray(ValueLayout.JAVA_BYTE), f + " " + names + ": " + e.name());
                        }
                    }
                    assertEquals(f.name(), switch (ModelFamilies.detect(c).displayName()) {
                        case "SD 1.x" -> "SD1";
                        case "SD 2.x" -> "SD2";
                        default -> "SDXL";
                    });
                }
            }
        }
    }

    @Test
    void modelDetectorAcceptsAFolderAndRefusesOthers() throws IOException {
        Path folder = folder(TinySd15Writer.Family.SD1, DiffusersFixture.VaeAttention.CURRENT);
        ModelDetector.checkContainer(folder);
        assertEquals(DiffusersFolder.Kind.SD1, DiffusersFolder.check(folder));
        assertEquals(folder.resolve("tokenizer"), DiffusersFolder.tokenizer(folder));

        Files.writeString(folder.resolve("model_index.json"), "{\"_class_name\": \"StableDiffusion3Pipeline\"}");
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> DiffusersFolder.open(folder));
        assertEquals("StableDiffusion3Pipeline", e.recognisedAs());
        assertMessage(e, "is a diffusers StableDiffusion3Pipeline folder", "StableDiffusionPipeline");

        Files.writeString(folder.resolve("model_index.json"), "{\"_class_name\": ");
        assertMessage(assertThrows(ModelFormatException.class, () -> DiffusersFolder.open(folder)), "model_index.json",
                "not valid JSON");
        Files.writeString(folder.resolve("model_index.json"), "[1]");
        assertMessage(assertThrows(ModelFormatException.class, () -> DiffusersFolder.open(folder)), "not a JSON object");
        Files.writeString(folder.resolve("model_index.json"), "{\"_class_name\": 3}");
        assertMessage(assertThrows(ModelFormatException.class, () -> DiffusersFolder.open(folder)), "_class_name");

        Files.writeString(folder.resolve("model_index.json"), "{\"_class_name\": \"StableDiffusionXLPipeline\"}");
        assertMessage(assertThrows(UnsupportedModelException.class, () -> DiffusersFolder.open(folder)),
                "has no text_encoder_2/ folder");

        Files.writeString(folder.resolve("model_index.json"), "{\"_class_name\": \"StableDiffusionPipeline\"}");
        Files.writeString(folder.resolve("text_encoder/config.json"), "{\"hidden_act\": \"relu\"}");
        assertMessage(assertThrows(UnsupportedModelException.class, () -> DiffusersFolder.open(folder)), "hidden_act",
                "relu");
        // without a config: the width decides, and 32 is neither SD 1.x's nor SD 2.x's
        Files.delete(folder.resolve("text_encoder/config.json"));
        assertMessage(assertThrows(UnsupportedModelException.class, () -> DiffusersFolder.open(folder)), "width 32");

        Path vae = folder.resolve("vae/diffusion_pytorch_model.safetensors");
        Files.move(vae, folder.resolve("vae/elsewhere.safetensors"));
        assertMessage(assertThrows(ModelFormatException.class, () -> DiffusersFolder.open(folder)), "vae",
                "has no weights file");
        Files.writeString(folder.resolve("vae/diffusion_pytorch_model.safetensors.index.json"), "{}");
        assertMessage(assertThrows(UnsupportedModelException.class, () -> DiffusersFolder.open(folder)), "shards");

        Files.delete(folder.resolve("model_index.json"));
        UnsupportedModelException noIndex = assertThrows(UnsupportedModelException.class, () -> ModelDetector.checkContainer(folder));
        assertEquals("a diffusers folder", noIndex.recognisedAs());
        assertMessage(noIndex, "without model_index.json");
    }

    @Test
    void aTextEncoderThatIsNotClipIsRefused() throws IOException {
        Path folder = folder(TinySd15Writer.Family.SD1, DiffusersFixture.VaeAttention.CURRENT);
        SafetensorsWriter w = new SafetensorsWriter();
        w.addFloats("encoder.weight", DType.F32, new long[]{2}, new float[]{1, 2});
        w.write(folder.resolve("text_encoder/model.safetensors"));
        assertMessage(assertThrows(ModelFormatException.class, () -> DiffusersFolder.open(folder)),
                "text_model.embeddings.token_embedding.weight", "not a transformers CLIPTextModel");
    }

    @Test
    void componentFilesAreChecked() throws IOException {
        Path whole = TinySd15Writer.builder().write(dir.resolve("whole.safetensors"));
        assertMessage(assertThrows(InvalidParameterException.class, () -> new ModelFiles(null, null, whole, null, null)),
                "--diffusion-model");
        assertMessage(assertThrows(InvalidParameterException.class,
                () -> new ModelFiles(whole, null, dir.resolve("no-vae.safetensors"), null, null).check()), "vae", "no such file");
        assertMessage(assertThrows(InvalidParameterException.class,
                () -> new ModelFiles(whole, null, null, dir, null).check()), "clip_l", "is a folder");
        Path junk = Files.write(dir.resolve("junk.safetensors"), new byte[]{1, 2, 3});
        assertMessage(assertThrows(ModelFormatException.class,
                () -> new ModelFiles(whole, null, null, null, junk).open()), "junk.safetensors");
        // a whole checkpoint as --vae: only its first_stage_model.* tensors are taken, and they replace the model's
        try (TensorSource s = new ModelFiles(whole, null, whole, null, null).open();
             SafetensorsFile f = SafetensorsFile.open(whole)) {
            assertEquals(new TreeSet<>(f.tensors().keySet()), new TreeSet<>(s.tensors().keySet()));
        }
    }

    @Test
    void craftedComponentNamesGiveTypedErrors() {
        Path whole = TinySd15Writer.builder().write(dir.resolve("whole.safetensors"));
        SafetensorsWriter w = new SafetensorsWriter();
        w.addFloats("conv_in.weight", DType.F32, new long[]{1, 1, 1, 1}, new float[]{1});
        w.addFloats("down_blocks.99999999999.resnets.0.conv1.weight", DType.F32, new long[]{1}, new float[]{1});
        w.addFloats("down_blocks.0.resnets.0.conv1.weight", DType.F32, new long[]{1, 2, 3}, new float[6]);
        w.addFloats("up_blocks.7.upsamplers.0.conv.weight", DType.F32, new long[]{1}, new float[]{1});
        Path unet = dir.resolve("crafted-unet.safetensors");
        w.write(unet);
        SafetensorsWriter v = new SafetensorsWriter();
        v.addFloats("encoder.mid_block.attentions.0.to_q.weight", DType.F32, new long[]{2, 3}, new float[6]);
        v.addFloats("encoder.mid_block.attentions.0.query.weight", DType.F32, new long[]{2, 3}, new float[6]);
        Path vae = dir.resolve("crafted-vae.safetensors");
        v.write(vae);
        try (TensorSource s = new ModelFiles(whole, unet, null, null, null).open()) {
            assertThrows(io.sdj.SdjException.class, () -> ModelFamilies.detect(s).configure(s));
        }
        // the current and the older attention names both present: two sources for one name
        assertMessage(assertThrows(ModelFormatException.class, () -> new ModelFiles(whole, null, vae, null, null).open()),
                "first_stage_model.encoder.mid.attn_1.q.weight", "offered twice");
    }

    private static void assertMessage(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), () -> "'" + e.getMessage() + "' lacks '" + part + "'");
        }
    }
}
