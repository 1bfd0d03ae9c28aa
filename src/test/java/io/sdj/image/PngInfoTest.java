package io.sdj.image;

import io.sdj.InvalidParameterException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PngInfoTest {

    @TempDir
    Path dir;

    static BufferedImage pattern(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (x * 7 & 0xff) << 16 | (y * 13 & 0xff) << 8 | ((x ^ y) & 0xff));
            }
        }
        return img;
    }

    /** tEXt/zTXt/iTXt entries as ImageIO's own PNG reader sees them. */
    static Map<String, String> imageIoText(byte[] png) throws IOException {
        Map<String, String> out = new HashMap<>();
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(png))) {
            ImageReader r = ImageIO.getImageReadersByFormatName("png").next();
            r.setInput(in);
            IIOMetadata md = r.getImageMetadata(0);
            Node root = md.getAsTree("javax_imageio_png_1.0");
            for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n.getNodeName().equals("tEXt")) {
                    for (Node e = n.getFirstChild(); e != null; e = e.getNextSibling()) {
                        NamedNodeMap a = e.getAttributes();
                        out.put(a.getNamedItem("keyword").getNodeValue(), a.getNamedItem("value").getNodeValue());
                    }
                }
            }
            r.dispose();
        }
        return out;
    }

    /** PNG bytes written by ImageIO with a text entry in its own metadata (chunk: tEXt, zTXt or iTXt). */
    static byte[] imageIoWithText(BufferedImage img, String chunk, String keyword, String value) throws IOException {
        ImageWriter w = ImageIO.getImageWritersByFormatName("png").next();
        IIOMetadata md = w.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(img), null);
        IIOMetadataNode root = new IIOMetadataNode("javax_imageio_png_1.0");
        IIOMetadataNode container = new IIOMetadataNode(chunk);
        IIOMetadataNode entry = new IIOMetadataNode(chunk + "Entry");
        entry.setAttribute("keyword", keyword);
        switch (chunk) {
            case "tEXt" -> entry.setAttribute("value", value);
            case "zTXt" -> {
                entry.setAttribute("text", value);
                entry.setAttribute("compressionMethod", "deflate");
            }
            default -> {
                entry.setAttribute("text", value);
                entry.setAttribute("compressionFlag", "TRUE");
                entry.setAttribute("compressionMethod", "0");
                entry.setAttribute("languageTag", "");
                entry.setAttribute("translatedKeyword", "");
            }
        }
        container.appendChild(entry);
        root.appendChild(container);
        md.mergeTree("javax_imageio_png_1.0", root);
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(bos)) {
            w.setOutput(out);
            w.write(new IIOImage(img, null, md));
        }
        w.dispose();
        return bos.toByteArray();
    }

    @Test
    void writtenPngDecodesToTheSamePixelsAndImageIoSeesTheText() throws IOException {
        BufferedImage img = pattern(37, 21);
        String params = ImageParameters.builder().prompt("a lovely cat").size(37, 21).build().toInfotext();
        Path p = dir.resolve("out.png");
        PngInfo.write(img, params, p);
        BufferedImage back = ImageIO.read(p.toFile());
        assertTrue(ImageCompare.compare(img, back).identical());
        byte[] bytes = Files.readAllBytes(p);
        assertEquals(params, imageIoText(bytes).get(PngInfo.PARAMETERS));
        assertEquals(params, PngInfo.readParameters(p).orElseThrow());
        // placed right after IHDR, like sd-cli
        assertEquals("tEXt", new String(bytes, 8 + 8 + 13 + 4 + 4, 4, java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void readsTextThatImageIoWroteInEveryTextChunkKind() throws IOException {
        BufferedImage img = pattern(8, 8);
        String text = "prompt\nSteps: 2, Seed: 1";
        assertEquals(text, PngInfo.readParameters(imageIoWithText(img, "tEXt", "parameters", text)).orElseThrow());
        assertEquals(text, PngInfo.readParameters(imageIoWithText(img, "zTXt", "parameters", text)).orElseThrow());
        String unicode = "猫 — ünïcode";
        assertEquals(unicode, PngInfo.readParameters(imageIoWithText(img, "iTXt", "parameters", unicode)).orElseThrow());
    }

    @Test
    void nonAsciiTextRoundTripsAsUtf8LikeSdCli() {
        String text = "ein Kätzchen, 猫\nSteps: 1";
        byte[] png = PngInfo.encode(pattern(4, 4), text);
        assertEquals(text, PngInfo.readParameters(png).orElseThrow());
    }

    @Test
    void latin1TextFromOtherToolsIsKept() {
        byte[] png = PngInfo.encode(pattern(4, 4), "x");
        // a tEXt chunk holding the single Latin-1 byte 0xE9 (not valid UTF-8) must read as 'é'
        byte[] withLatin1 = PngInfo.withTextChunk(png, "Comment", "\u00e9");
        byte[] patched = withLatin1.clone();
        // rewrite the UTF-8 é (C3 A9) into a one-byte Latin-1 é by building the chunk by hand
        byte[] manual = manualTextChunk("Comment", new byte[]{(byte) 0xe9});
        byte[] out = new byte[png.length + manual.length];
        System.arraycopy(png, 0, out, 0, 33);
        System.arraycopy(manual, 0, out, 33, manual.length);
        System.arraycopy(png, 33, out, 33 + manual.length, png.length - 33);
        assertEquals("\u00e9", PngInfo.readTextChunks(out).get("Comment"));
        assertEquals("\u00e9", PngInfo.readTextChunks(patched).get("Comment"));
    }

    private static byte[] manualTextChunk(String key, byte[] text) {
        byte[] k = key.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        byte[] data = new byte[k.length + 1 + text.length];
        System.arraycopy(k, 0, data, 0, k.length);
        System.arraycopy(text, 0, data, k.length + 1, text.length);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(12 + data.length);
        b.putInt(data.length).put("tEXt".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put(data);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update("tEXt".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        crc.update(data);
        b.putInt((int) crc.getValue());
        return b.array();
    }

    @Test
    void readsTheGoldenImagesMetadata() {
        Path golden = ImageParametersTest.golden("c01_t2i64_eulera_discrete_s2_cfg7_seed42.png");
        Map<String, String> chunks = PngInfo.readTextChunks(golden);
        assertEquals(1, chunks.size());
        assertTrue(chunks.get("parameters").startsWith("a lovely cat\nSteps: 2, CFG scale: 7.000000, "));
    }

    @Test
    void badCrcAndBadSignatureAreErrors() {
        byte[] png = PngInfo.encode(pattern(4, 4), "abc");
        byte[] broken = png.clone();
        broken[33 + 8 + 3] ^= 1; // a byte inside the tEXt chunk's data
        ImageFormatException e = assertThrows(ImageFormatException.class, () -> PngInfo.readTextChunks(broken));
        assertTrue(e.getMessage().contains("chunk tEXt at byte 33 has a bad CRC"), e.getMessage());
        byte[] notPng = png.clone();
        notPng[1] = 'X';
        assertThrows(ImageFormatException.class, () -> PngInfo.readTextChunks(notPng));
        byte[] truncated = java.util.Arrays.copyOf(png, png.length - 20);
        assertThrows(ImageFormatException.class, () -> PngInfo.readTextChunks(truncated));
    }

    @Test
    void invalidKeywordsAndTextAreRejected() {
        byte[] png = PngInfo.encode(pattern(2, 2), "x");
        assertThrows(InvalidParameterException.class, () -> PngInfo.withTextChunk(png, "", "x"));
        assertThrows(InvalidParameterException.class, () -> PngInfo.withTextChunk(png, "k".repeat(80), "x"));
        assertThrows(InvalidParameterException.class, () -> PngInfo.withTextChunk(png, "a\nb", "x"));
        assertThrows(InvalidParameterException.class, () -> PngInfo.withTextChunk(png, "k", "a\0b"));
    }

    @Test
    void missingParametersIsEmpty() throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        ImageIO.write(pattern(3, 3), "png", bos);
        assertTrue(PngInfo.readParameters(bos.toByteArray()).isEmpty());
        assertArrayEquals(new String[0], PngInfo.readTextChunks(bos.toByteArray()).keySet().toArray(new String[0]));
    }
}
