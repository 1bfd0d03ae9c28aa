package io.sdj.pipeline;

import io.sdj.model.GoldenModel;
import io.sdj.model.TinySd15Writer;
import io.sdj.sampling.SamplerKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Queueing, cancellation, close during a generation, the async entry point, per-image results and previews. */
class ConcurrencyTest {
    @TempDir
    static Path dir;
    static Path model;
    static StableDiffusion sd;
    static ExecutorService threads;

    @BeforeAll
    static void load() throws IOException {
        model = dir.resolve("tiny.safetensors");
        TinySd15Writer.writeDefault(model);
        sd = open();
        threads = Executors.newCachedThreadPool();
    }

    static StableDiffusion open() {
        return StableDiffusion.builder().model(model).tokenizer(GoldenModel.merges()).backend("cpu").threads(2).build();
    }

    @AfterAll
    static void close() {
        sd.close();
        threads.shutdownNow();
    }

    static GenerationRequest.Builder small() {
        return GenerationRequest.builder("a cat").size(32, 32).steps(4).sampler(SamplerKind.EULER).seed(7);
    }

    /** A listener that stops the generation at its first sampling step until released. */
    static final class Gate implements ProgressListener {
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger steps = new AtomicInteger();

        @Override
        public void onProgress(Progress p) {
            if (p.phase() == Phase.SAMPLING && p.step() > 0) {
                steps.incrementAndGet();
                reached.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** Runs a generation held at its first step; returns its future once it holds the model. */
    static Future<GenerationResult> holding(StableDiffusion model, Gate gate) throws InterruptedException {
        Future<GenerationResult> f = threads.submit(() -> model.generate(small().build(), gate, null));
        assertTrue(gate.reached.await(60, TimeUnit.SECONDS), "the first generation should start");
        return f;
    }

    @Test
    void futureCancelTrueStopsAQueuedCallWithATypedException() throws Exception {
        Gate gate = new Gate();
        Future<GenerationResult> running = holding(sd, gate);
        AtomicReference<Throwable> queuedEnd = new AtomicReference<>();
        CountDownLatch ended = new CountDownLatch(1);
        Future<GenerationResult> queued = threads.submit(() -> {
            try {
                return sd.generate(small().build());
            } catch (RuntimeException e) {
                queuedEnd.set(e);
                throw e;
            } finally {
                ended.countDown();
            }
        });
        Thread.sleep(200); // let it queue on the model
        assertFalse(queued.isDone(), "the second call waits for the first");
        queued.cancel(true);
        assertTrue(ended.await(5, TimeUnit.SECONDS), "the queued call should end soon after cancel(true)");
        GenerationCancelledException e = assertInstanceOf(GenerationCancelledException.class, queuedEnd.get());
        assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
        gate.release.countDown();
        assertEquals(1, running.get(60, TimeUnit.SECONDS).images().size(), "the running call is not disturbed");
    }

    @Test
    void aTokenCancelsAQueuedCall() throws Exception {
        Gate gate = new Gate();
        Future<GenerationResult> running = holding(sd, gate);
        CancellationToken token = new CancellationToken();
        Future<GenerationResult> queued = threads.submit(() -> sd.generate(small().build(), null, token));
        Thread.sleep(200);
        token.cancel();
        ExecutionException e = assertThrows(ExecutionException.class, () -> queued.get(5, TimeUnit.SECONDS));
        assertInstanceOf(GenerationCancelledException.class, e.getCause());
        gate.release.countDown();
        running.get(60, TimeUnit.SECONDS);
    }

    @Test
    void closeDuringAGenerationCancelsItWaitsAndThenFrees() throws Exception {
        StableDiffusion own = open();
        Gate gate = new Gate();
        Future<GenerationResult> running = holding(own, gate);
        Future<GenerationResult> queued = threads.submit(() -> own.generate(small().build()));
        Thread.sleep(100);
        CompletableFuture<Void> closing = CompletableFuture.runAsync(own::close, threads);
        Thread.sleep(300);
        assertFalse(closing.isDone(), "close waits for the running generation to stop");
        gate.release.countDown();
        ExecutionException e = assertThrows(ExecutionException.class, () -> running.get(60, TimeUnit.SECONDS));
        GenerationCancelledException c = assertInstanceOf(GenerationCancelledException.class, e.getCause());
        assertTrue(c.getMessage().contains("closed"), c.getMessage());
        assertEquals(1, gate.steps.get(), "no step after the one that was running when close was called");
        closing.get(30, TimeUnit.SECONDS);
        ExecutionException q = assertThrows(ExecutionException.class, () -> queued.get(10, TimeUnit.SECONDS));
        assertInstanceOf(GenerationCancelledException.class, q.getCause());
        assertThrows(IllegalStateException.class, () -> own.generate(small().build()));
        own.close(); // idempotent
    }

    @Test
    void closeFromAListenerFreesWhenTheGenerationReturns() {
        StableDiffusion own = open();
        GenerationCancelledException e = assertThrows(GenerationCancelledException.class, () -> own.generate(
                small().build(), p -> {
                    if (p.phase() == Phase.SAMPLING && p.step() == 1) {
                        own.close();
                    }
                }, null));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> own.generate(small().build()));
    }

    @Test
    void generateFromAListenerIsRefused() {
        AtomicReference<Throwable> inner = new AtomicReference<>();
        sd.generate(small().steps(1).build(), p -> {
            if (p.phase() == Phase.DECODING && inner.get() == null) {
                try {
                    sd.generate(small().build());
                    inner.set(new AssertionError("nested generate ran"));
                } catch (IllegalStateException e) {
                    inner.set(e);
                }
            }
        }, null);
        assertInstanceOf(IllegalStateException.class, inner.get());
    }

    @Test
    void asyncGivesTheSameImageAndEachImageAsItFinishes() throws Exception {
        GenerationResult sync = sd.generate(small().batchCount(2).build());
        List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
        List<Boolean> doneWhenSeen = Collections.synchronizedList(new ArrayList<>());
        AtomicReference<CompletableFuture<GenerationResult>> self = new AtomicReference<>();
        CompletableFuture<GenerationResult> f = sd.generateAsync(small().batchCount(2).build(), null, img -> {
            seen.add(img.index());
            CompletableFuture<GenerationResult> me = self.get();
            doneWhenSeen.add(me != null && me.isDone());
        }, null);
        self.set(f);
        GenerationResult async = f.get(60, TimeUnit.SECONDS);
        assertEquals(List.of(0, 1), seen);
        assertFalse(doneWhenSeen.contains(true), "images arrive before the future completes");
        for (int i = 0; i < 2; i++) {
            assertTrue(java.util.Arrays.equals(PipelineTest.pixels(sync.images().get(i).image()),
                    PipelineTest.pixels(async.images().get(i).image())), "image " + i);
        }
        GenerationResult def = sd.generateAsync(small().build()).get(60, TimeUnit.SECONDS);
        assertEquals(1, def.images().size());
    }

    @Test
    void cancellingAnAsyncFutureStopsTheGeneration() throws Exception {
        Gate gate = new Gate();
        CompletableFuture<GenerationResult> f = sd.generateAsync(small().steps(6).build(), gate, null, threads);
        assertTrue(gate.reached.await(60, TimeUnit.SECONDS));
        CompletableFuture<GenerationResult> queued = sd.generateAsync(small().build(), null, null, threads);
        assertTrue(queued.cancel(false));
        assertTrue(f.cancel(true));
        gate.release.countDown();
        assertThrows(CancellationException.class, () -> f.get(1, TimeUnit.SECONDS));
        assertThrows(CancellationException.class, queued::join);
        // the model is free again at once: the cancelled run stopped at its next step
        GenerationResult next = sd.generateAsync(small().steps(1).build(), null, null, threads).get(60, TimeUnit.SECONDS);
        assertEquals(1, next.images().size());
        assertEquals(1, gate.steps.get(), "the cancelled generation made no further step");
    }

    @Test
    void previewsArriveEveryNStepsAtLatentSize() {
        List<Preview> previews = Collections.synchronizedList(new ArrayList<>());
        List<Progress> progress = Collections.synchronizedList(new ArrayList<>());
        sd.generate(small().steps(5).build(), ProgressListener.withPreviews(progress::add, 2, previews::add), null);
        assertEquals(List.of(2, 4, 5), previews.stream().map(Preview::step).toList());
        int f = sd.config().vae().downscale();
        for (Preview p : previews) {
            assertEquals(32 / f, p.rgb().getWidth());
            assertEquals(32 / f, p.rgb().getHeight());
            assertEquals(5, p.steps());
        }
        assertTrue(progress.stream().anyMatch(p -> p.phase() == Phase.SAMPLING));
        assertThrows(io.sdj.InvalidParameterException.class, () -> ProgressListener.withPreviews(null, 0, p -> { }));
    }

    @Test
    void theDeviceIsADescriptionNotTheBackend() {
        assertNotNull(sd.device());
        assertEquals("CPU", sd.device().name());
    }

    @Test
    void aQueuedCallWaitsItsTurn() throws Exception {
        Gate gate = new Gate();
        Future<GenerationResult> running = holding(sd, gate);
        Future<GenerationResult> queued = threads.submit(() -> sd.generate(small().steps(1).build()));
        assertThrows(TimeoutException.class, () -> queued.get(300, TimeUnit.MILLISECONDS));
        gate.release.countDown();
        running.get(60, TimeUnit.SECONDS);
        assertEquals(1, queued.get(60, TimeUnit.SECONDS).images().size());
    }
}
