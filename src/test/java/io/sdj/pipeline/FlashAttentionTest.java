package io.sdj.pipeline;

import io.sdj.InvalidParameterException;
import io.sdj.runtime.Backend;
import io.sdj.runtime.Backends;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link FlashAttention}'s choice per backend and part, and its parsing. */
class FlashAttentionTest {
    @Test
    void autoIsFlashInTheUnetOnTheCpuOnly() {
        Backend cpu = Backends.get("cpu");
        assertTrue(FlashAttention.AUTO.inUnet(cpu));
        assertFalse(FlashAttention.AUTO.inVae(), "the VAE keeps regular attention unless asked");
        assertTrue(FlashAttention.ON.inUnet(cpu) && FlashAttention.ON.inVae());
        assertFalse(FlashAttention.OFF.inUnet(cpu) || FlashAttention.OFF.inVae());
        assertEquals(FlashAttention.ON, FlashAttention.of(true));
        assertEquals(FlashAttention.OFF, FlashAttention.of(false));
        assertTrue(VaeConvolution.AUTO.decidesByMemory(cpu));
        assertFalse(VaeConvolution.IM2COL.decidesByMemory(cpu) || VaeConvolution.DIRECT.decidesByMemory(cpu));
    }

    @Test
    void parsesItsThreeValues() {
        assertEquals(FlashAttention.AUTO, FlashAttention.parse(" Auto "));
        assertEquals(FlashAttention.OFF, FlashAttention.parse("off"));
        InvalidParameterException e = assertThrows(InvalidParameterException.class, () -> FlashAttention.parse("yes"));
        assertEquals("flash attention", e.parameter());
    }
}
