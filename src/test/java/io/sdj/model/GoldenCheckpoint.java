package io.sdj.model;

import io.sdj.SdjException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test support: the deterministic full-size SD 1.5 checkpoint of random weights that the golden images were made with
 * ({@code shared/golden/RandomSd15.java}, seed 1). It is not stored anywhere: {@link #ensure} regenerates it into a
 * cache folder and checks it against the published size and SHA-256. A verified file gets a small stamp beside it
 * (size, modification time, digest) so later runs skip the 2 GB hash while the file is unchanged.
 */
public final class GoldenCheckpoint {
    private static final Logger LOG = LoggerFactory.getLogger(GoldenCheckpoint.class);

    /** File name the golden runs used (it appears in the images' metadata). */
    public static final String FILE_NAME = "sd15_random_seed1.safetensors";
    /** Published SHA-256 of the seed-1 file. */
    public static final String SHA256 = "0396b50d0ed8816accd01fc590cdbb679dad9638f588148dcffca63fe7de1041";
    /** Published size of the seed-1 file in bytes. */
    public static final long SIZE = 2_132_651_252L;
    /** Generator seed of the golden file. */
    public static final long SEED = 1;
    /** The generator, relative to the shared folder. */
    public static final String GENERATOR = "golden/RandomSd15.java";

    /**
     * One deterministic golden checkpoint.
     *
     * @param fileName  the file name the golden runs used (it appears in the images' metadata)
     * @param sha256    published SHA-256
     * @param size      published size in bytes
     * @param generator the generator, relative to the shared folder
     */
    public record Spec(String fileName, String sha256, long size, String generator) {
    }

    /** The SD 1.5 stand-in ({@code golden/}). */
    public static final Spec SD15 = new Spec(FILE_NAME, SHA256, SIZE, GENERATOR);
    /** The SD 2.1 768-v stand-in ({@code golden-sd2/}). */
    public static final Spec SD2 = new Spec("sd2_random_seed1.safetensors",
            "ffe00a630fc0e8779c0c77cc4960ac87fd282af1dca471c3517aae2badf1fc9e", 2_607_385_278L,
            "golden-sd2/RandomSd2.java");
    /** The SDXL base 1.0 stand-in ({@code golden-sdxl/}). */
    public static final Spec SDXL = new Spec("sdxl_random_seed1.safetensors",
            "6a4c28c2d427096bc094e1f826761a83495091127251e8749a48221682104d19", 6_938_041_224L,
            "golden-sdxl/RandomSdxl.java");

    private static final String STAMP_SUFFIX = ".verified";
    private static final long GENERATE_TIMEOUT_MINUTES = 15;

    private GoldenCheckpoint() {
    }

    /**
     * The verified golden checkpoint in {@code cacheDir}, generated first when it is missing or does not match.
     *
     * @param cacheDir  folder for the file (created if needed)
     * @param sharedDir the shared reference folder holding {@value #GENERATOR}
     * @throws SdjException if generation fails or the result does not match the published digest
     */
    public static Path ensure(Path cacheDir, Path sharedDir) {
        return ensure(SD15, cacheDir, sharedDir);
    }

    /** {@link #ensure(Path, Path)} for any golden checkpoint. */
    public static Path ensure(Spec spec, Path cacheDir, Path sharedDir) {
        Path target = cacheDir.resolve(spec.fileName());
        try {
            Files.createDirectories(cacheDir);
            try (FileChannel lockCh = FileChannel.open(cacheDir.resolve(spec.fileName() + ".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                FileLock lock = lockCh.lock(); // another JVM may be generating the same file
                try {
                    if (!isVerified(spec, target)) {
                        generate(spec, sharedDir.resolve(spec.generator()), target);
                    }
                    return target;
                } finally {
                    lock.release();
                }
            }
        } catch (IOException e) {
            throw new SdjException(cacheDir + ": cannot prepare the golden checkpoint: " + e.getMessage(), e);
        }
    }

    /**
     * True when {@code file} is the golden checkpoint: right size and either a current stamp or a matching
     * SHA-256 (which then writes the stamp).
     */
    public static boolean isVerified(Path file) {
        return isVerified(SD15, file);
    }

    /** {@link #isVerified(Path)} for any golden checkpoint. */
    public static boolean isVerified(Spec spec, Path file) {
        try {
            if (!Files.isRegularFile(file) || Files.size(file) != spec.size()) {
                return false;
            }
            String stamp = stampText(spec, file);
            Path stampFile = stampPath(file);
            if (Files.isRegularFile(stampFile) && Files.readString(stampFile).equals(stamp)) {
                return true;
            }
            LOG.info("{}: checking SHA-256 of {} bytes", file, spec.size());
            if (!Sha256.of(file).equals(spec.sha256())) {
                LOG.warn("{}: SHA-256 does not match the golden checkpoint", file);
                return false;
            }
            Files.writeString(stampFile, stamp);
            return true;
        } catch (IOException e) {
            throw new SdjException(file + ": cannot check: " + e.getMessage(), e);
        }
    }

    /**
     * Checks size and SHA-256 of a file (no stamp shortcut).
     *
     * @throws ModelFormatException if either differs
     */
    public static void verify(Path file) {
        verify(SD15, file);
    }

    /** {@link #verify(Path)} for any golden checkpoint. */
    public static void verify(Spec spec, Path file) {
        try {
            long size = Files.size(file);
            if (size != spec.size()) {
                throw new ModelFormatException(file, "size is " + size + " bytes, the golden checkpoint has " + spec.size());
            }
        } catch (IOException e) {
            throw new ModelFormatException(file, null, "cannot read: " + e.getMessage(), e);
        }
        Sha256.verify(file, spec.sha256());
    }

    private static void generate(Spec spec, Path generator, Path target) throws IOException {
        if (!Files.isRegularFile(generator)) {
            throw new SdjException(generator + ": generator not found (is the shared folder right?)");
        }
        Path tmp = target.resolveSibling(spec.fileName() + ".tmp");
        Path log = target.resolveSibling(spec.fileName() + ".log");
        Files.deleteIfExists(stampPath(target));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = List.of(java.toString(), generator.toString(), tmp.toString(), Long.toString(SEED));
        LOG.info("generating the golden checkpoint: {}", String.join(" ", cmd));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(GENERATE_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new SdjException(generator + ": generation did not finish in " + GENERATE_TIMEOUT_MINUTES + " minutes");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new SdjException(generator + ": interrupted while generating the golden checkpoint", e);
        }
        if (p.exitValue() != 0) {
            String out = Files.isRegularFile(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            throw new SdjException(generator + ": exited with " + p.exitValue() + ": "
                    + out.substring(Math.max(0, out.length() - 2000)));
        }
        verify(spec, tmp);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.writeString(stampPath(target), stampText(spec, target));
        LOG.info("{}: golden checkpoint generated and verified", target);
    }

    private static Path stampPath(Path file) {
        return file.resolveSibling(file.getFileName() + STAMP_SUFFIX);
    }

    private static String stampText(Spec spec, Path file) throws IOException {
        return Files.size(file) + " " + Files.getLastModifiedTime(file).toMillis() + " " + spec.sha256() + "\n";
    }
}
