package io.sdj.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test support for the TAESD golden suite ({@code ../shared/golden-taesd}): the deterministic random TAESD file,
 * generated on first use into {@code models/cache/} with the shared generator and checked against its published
 * SHA-256, and the cases of {@code cases.tsv}.
 */
public final class GoldenTaesd {
    /** File name the golden runs used. */
    public static final String FILE_NAME = "taesd_random_seed1.safetensors";
    /** Published SHA-256 of the seed-1 file. */
    public static final String SHA256 = "e078b8314d1ca4acf1488625bb338385bdb3500a02509affa8409b112ef1692d";
    /** Published size in bytes. */
    public static final long SIZE = 4_903_182L;

    private GoldenTaesd() {
    }

    /**
     * One case.
     *
     * @param file         the golden PNG (the -o output, or the preview for preview cases)
     * @param args         sd-cli's arguments, MODEL and TAESD standing for the two files
     * @param secondOutput the -o file of cases whose main golden is a preview, or null
     */
    public record Case(String file, List<String> args, String secondOutput) {
        public Case {
            args = List.copyOf(args);
        }

        @Override
        public String toString() {
            return file;
        }
    }

    /** The shared folder of this suite. */
    public static Path dir() {
        return GoldenModel.sharedDir().resolve("golden-taesd");
    }

    /** Every case in file order. */
    public static List<Case> cases() {
        Path tsv = dir().resolve("cases.tsv");
        try {
            List<String> lines = Files.readAllLines(tsv);
            List<Case> cases = new ArrayList<>();
            for (String line : lines.subList(1, lines.size())) {
                String[] cols = line.split("\t");
                String second = cols.length > 6 && !cols[6].equals("-") ? cols[6] : null;
                cases.add(new Case(cols[0], GoldenCases.shellWords(cols[1]), second));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(tsv + ": " + e.getMessage(), e);
        }
    }

    /** The verified TAESD file, generated (seconds) when missing. */
    public static synchronized Path path() {
        Path target = GoldenModel.repoRoot().resolve("models").resolve("cache").resolve(FILE_NAME);
        try {
            if (Files.isRegularFile(target) && Files.size(target) == SIZE && Sha256.of(target).equals(SHA256)) {
                return target;
            }
            Files.createDirectories(target.getParent());
            Path tmp = target.resolveSibling(FILE_NAME + ".tmp");
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            Process p = new ProcessBuilder(java.toString(), dir().resolve("RandomTaesd.java").toString(), tmp.toString(),
                    "1").redirectErrorStream(true).redirectOutput(target.resolveSibling(FILE_NAME + ".log").toFile())
                    .start();
            if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("RandomTaesd.java failed; see " + FILE_NAME + ".log");
            }
            if (!Sha256.of(tmp).equals(SHA256)) {
                throw new IllegalStateException(tmp + ": SHA-256 does not match the published TAESD file");
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
