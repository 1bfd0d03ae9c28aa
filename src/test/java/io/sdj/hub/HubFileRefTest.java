package io.sdj.hub;

import io.sdj.InvalidParameterException;
import org.junit.jupiter.api.Test;

import java.net.URI;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HubFileRefTest {
    @Test
    void parsesModelReferences() {
        HubFileRef r = HubFileRef.parse("hf://stable-diffusion-v1-5/stable-diffusion-v1-5/v1-5-pruned-emaonly.safetensors");
        assertEquals("stable-diffusion-v1-5/stable-diffusion-v1-5", r.repoId());
        assertEquals("main", r.revision());
        assertEquals("v1-5-pruned-emaonly.safetensors", r.path());
        assertEquals("v1-5-pruned-emaonly.safetensors", r.fileName());

        HubFileRef nested = HubFileRef.parse("hf://org/repo@v1.0/unet/diffusion_pytorch_model.safetensors");
        assertEquals("v1.0", nested.revision());
        assertEquals("unet/diffusion_pytorch_model.safetensors", nested.path());
        assertEquals("diffusion_pytorch_model.safetensors", nested.fileName());

        HubFileRef pr = HubFileRef.parse("hf://org/repo@refs%2Fpr%2F3/model.safetensors");
        assertEquals("refs/pr/3", pr.revision());
        assertEquals("hf://org/repo@refs%2Fpr%2F3/model.safetensors", pr.toString());
        assertEquals(pr, HubFileRef.parse(pr.toString()));

        assertTrue(HubFileRef.parse("hf://o/r@0123456789abcdef0123456789abcdef01234567/f").pinnedToCommit());
        assertFalse(r.pinnedToCommit());
        assertTrue(HubFileRef.isReference("HF://o/r/f"));
        assertFalse(HubFileRef.isReference("models/sd15.safetensors"));
    }

    @Test
    void urlsHaveTheHubsShape() {
        URI endpoint = URI.create("https://huggingface.co");
        assertEquals("https://huggingface.co/openai/clip-vit-large-patch14/resolve/main/merges.txt",
                HubFileRef.of("openai/clip-vit-large-patch14", "merges.txt").url(endpoint).toString());
        assertEquals("https://huggingface.co/o/r/resolve/refs%2Fpr%2F3/a%20b/c%2Bd.txt",
                new HubFileRef("o/r", "refs/pr/3", "a b/c+d.txt").url(endpoint).toString());
    }

    @Test
    void refusesReferencesThatCouldLeaveTheCache() {
        for (String bad : new String[] {"hf://org/repo", "hf://org/repo/", "hf://org", "hf://org/../x/f",
                "hf://org/repo/../../etc/passwd", "hf://org/repo/a//b", "hf://org/repo/a\\b", "hf://or--g/repo/f",
                "hf://org/repo@/f", "hf://org/repo@..%2F..%2Fx/f", "hf://datasets/org/repo/f", "hf://org/re po/f",
                "models/x.safetensors"}) {
            assertThrows(InvalidParameterException.class, () -> HubFileRef.parse(bad), bad);
        }
        assertThrows(InvalidParameterException.class, () -> new HubFileRef("a/b/c", "main", "f"));
        assertThrows(InvalidParameterException.class, () -> new HubFileRef("a/b", "main", "/etc/passwd"));
        assertThrows(InvalidParameterException.class, () -> new HubFileRef("a/b", "main", "f\u0000"));
    }
}
