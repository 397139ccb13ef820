package io.jdiffusion.conditioning.embeddings;

import io.jdiffusion.api.EmbeddingSource.Embedding;
import io.jdiffusion.api.EmbeddingSource.Skipped;
import io.jdiffusion.conditioning.embeddings.Fixtures.T;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddingFileTest {
    @TempDir
    Path dir;

    private static float[][] rows(int n, int w, long seed) {
        Random r = new Random(seed);
        float[][] out = new float[n][w];
        for (float[] row : out) {
            for (int i = 0; i < w; i++) {
                row[i] = (float) r.nextGaussian();
            }
        }
        return out;
    }

    /** Values exactly representable in float16 and bfloat16: multiples of 1/8 in [-4, 4]. */
    private static float[][] coarse(int n, int w, long seed) {
        Random r = new Random(seed);
        float[][] out = new float[n][w];
        for (float[] row : out) {
            for (int i = 0; i < w; i++) {
                row[i] = (r.nextInt(64) - 32) / 8f;
            }
        }
        return out;
    }

    private static void assertVectors(float[][] expected, float[][] actual) {
        assertEquals(expected.length, actual.length, "vectors");
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], actual[i], 0f, "vector " + i);
        }
    }

    @Test
    void a1111SafetensorsEmbParamsWithSeveralVectors() throws Exception {
        float[][] v = rows(3, 16, 1);
        Path f = dir.resolve("my-thing.safetensors");
        Fixtures.safetensors(f, Map.of("emb_params", T.f32(v)), Map.of("format", "pt"));
        Embedding e = EmbeddingFile.read(f);
        assertEquals("my-thing", e.name());
        assertEquals(1, e.variants().size());
        assertVectors(v, e.variants().get(0));
    }

    @Test
    void diffusersSafetensorsTokenToVectorInHalf() throws Exception {
        float[][] v = coarse(1, 16, 2);
        Path f = dir.resolve("cat-toy.safetensors");
        Fixtures.safetensors(f, Map.of("<cat-toy>", T.vector("F16", v[0])), null);
        Embedding e = EmbeddingFile.read(f);
        assertEquals("cat-toy", e.name());
        assertVectors(v, e.variants().get(0));
    }

    @Test
    void sdxlPairKeepsBothWidthsAndPicksByWidth() throws Exception {
        float[][] l = coarse(2, 8, 3);
        float[][] g = coarse(2, 12, 4);
        Map<String, T> m = new LinkedHashMap<>();
        m.put("clip_g", T.of("BF16", g));
        m.put("clip_l", T.of("BF16", l));
        Path f = dir.resolve("xl-style.safetensors");
        Fixtures.safetensors(f, m, null);
        Embedding e = EmbeddingFile.read(f);
        assertEquals(List.of(8, 12), e.widths());
        assertVectors(l, e.forWidth(8));
        assertVectors(g, e.forWidth(12));
        assertNull(e.forWidth(16));
    }

    @Test
    void a1111PtZipArchiveWithStringToParam() throws Exception {
        float[][] v = rows(4, 16, 5);
        Path f = dir.resolve("style-a.pt");
        Fixtures.a1111Pt(f, "style-a", T.f32(v));
        Embedding e = EmbeddingFile.read(f);
        assertEquals("style-a", e.name());
        assertVectors(v, e.variants().get(0));
    }

    /**
     * The original textual-inversion code saves string_to_param as a torch.nn.ParameterDict: NEWOBJ of the
     * class, then BUILD with its __dict__, whose _parameters is an OrderedDict of _rebuild_parameter(...).
     */
    @Test
    void parameterDictFromTheOriginalTextualInversion() throws Exception {
        float[][] v = rows(2, 16, 12);
        T t = T.f32(v);
        Pickles p = Pickles.protocol2().emptyDict().mark();
        p.str("string_to_param");
        p.global("torch.nn.modules.container", "ParameterDict").emptyTuple().raw(0x81); // NEWOBJ
        p.emptyDict().mark()
                .str("training").bool(true)
                .str("_parameters").global("collections", "OrderedDict").emptyTuple().reduce()
                .mark().str("*").global("torch._utils", "_rebuild_parameter").mark()
                .tensor("FloatStorage", "0", t.values().length, 0, t.shape(), t.contiguousStride())
                .bool(true).global("collections", "OrderedDict").emptyTuple().reduce().tuple().reduce()
                .setItems()
                .str("_buffers").global("collections", "OrderedDict").emptyTuple().reduce()
                .setItems();
        p.raw('b'); // BUILD
        // its string_to_token holds the token id as a 0-d long tensor
        p.str("string_to_token").emptyDict().str("*")
                .tensor("LongStorage", "1", 1, 0, new long[0], new long[0]).setItem();
        p.setItems();
        Path f = dir.resolve("original.pt");
        Fixtures.torchZip(f, p.stop(), Map.of("0", t.bytes(),
                "1", java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(265).array()));
        assertVectors(v, EmbeddingFile.read(f).variants().get(0));
    }

    @Test
    void diffusersLearnedEmbedsBinZipAndLegacy() throws Exception {
        float[][] v = rows(1, 16, 6);
        Path zip = dir.resolve("concept-zip.bin");
        Fixtures.torchZip(zip, Fixtures.tensorDict(Map.of("<concept>", T.vector("F32", v[0]))),
                Map.of("0", T.vector("F32", v[0]).bytes()));
        assertVectors(v, EmbeddingFile.read(zip).variants().get(0));

        Path legacy = dir.resolve("concept-legacy.bin");
        Fixtures.torchLegacy(legacy, Map.of("<concept>", T.vector("F32", v[0])));
        assertFalse(Files.readAllBytes(legacy)[0] == 'P', "legacy files are not zips");
        assertVectors(v, EmbeddingFile.read(legacy).variants().get(0));
    }

    @Test
    void halfStorageInAPickle() throws Exception {
        float[][] v = coarse(2, 16, 7);
        Path f = dir.resolve("half.pt");
        T t = T.of("F16", v);
        Fixtures.torchZip(f, Fixtures.tensorDict(Map.of("emb_params", t)), Map.of("0", t.bytes()));
        assertVectors(v, EmbeddingFile.read(f).variants().get(0));
    }

    @Test
    void stridedViewIsCopiedInRowMajorOrder() throws Exception {
        // a [2, 3] tensor that is the transpose of a contiguous [3, 2] storage: stride (1, 2), offset 0
        float[] storage = {0, 1, 2, 3, 4, 5};
        byte[] pickle = Pickles.protocol2().emptyDict().mark().str("emb_params")
                .tensor("FloatStorage", "0", 6, 0, new long[] {2, 3}, new long[] {1, 2}).setItems().stop();
        Path f = dir.resolve("strided.pt");
        Fixtures.torchZip(f, pickle, Map.of("0", new T("F32", new long[] {6}, storage).bytes()));
        float[][] got = EmbeddingFile.read(f).variants().get(0);
        assertArrayEquals(new float[] {0, 2, 4}, got[0]);
        assertArrayEquals(new float[] {1, 3, 5}, got[1]);
    }

    /** A pickle that would run a shell command when Python unpickles it: {@code posix.system('touch ...')}. */
    static byte[] maliciousPickle(String module, String name, Path marker) {
        return Pickles.protocol2().global(module, name).mark().str("touch " + marker).tuple().reduce().stop();
    }

    @Test
    void maliciousPicklesAreRefusedAndNothingRuns() throws Exception {
        Path marker = dir.resolve("pwned");
        for (String[] g : new String[][] {{"posix", "system"}, {"os", "system"}, {"builtins", "eval"},
                {"__builtin__", "exec"}, {"subprocess", "Popen"}}) {
            Path f = dir.resolve("evil-" + g[1] + ".pt");
            Fixtures.torchZip(f, maliciousPickle(g[0], g[1], marker), Map.of());
            EmbeddingFormatException ex = assertThrows(EmbeddingFormatException.class, () -> EmbeddingFile.read(f));
            assertTrue(ex.getMessage().contains(g[0] + "." + g[1]), ex.getMessage());
            assertTrue(ex.getMessage().contains("refused"), ex.getMessage());
        }
        // the same inside a tensor dictionary, after a good tensor; and with protocol 4's STACK_GLOBAL
        byte[] hidden = Pickles.protocol2().emptyDict().mark()
                .str("emb_params").tensor("FloatStorage", "0", 2, 0, new long[] {2}, new long[] {1})
                .str("x").str("os").str("system").raw(0x93).mark().str("touch " + marker).tuple().reduce()
                .setItems().stop();
        Path f = dir.resolve("evil-stack.bin");
        Fixtures.torchZip(f, hidden, Map.of("0", new byte[8]));
        EmbeddingFormatException ex = assertThrows(EmbeddingFormatException.class, () -> EmbeddingFile.read(f));
        assertTrue(ex.getMessage().contains("os.system"), ex.getMessage());
        assertFalse(Files.exists(marker), "nothing may be executed");
    }

    @Test
    void reduceOfSomethingThatIsNotAnAllowedCallableIsRefused() throws Exception {
        // REDUCE applied to a string (Pyrolite would throw a ClassCastException): a clear refusal instead
        byte[] p = Pickles.protocol2().str("os.system").mark().str("ls").tuple().reduce().stop();
        EmbeddingFormatException ex = assertThrows(EmbeddingFormatException.class, () -> TorchFile.unpickle(p));
        assertTrue(ex.getMessage().contains("calls a String"), ex.getMessage());
    }

    @Test
    void notATensorDictionaryIsAClearError() throws Exception {
        Path f = dir.resolve("two.safetensors");
        Fixtures.safetensors(f, Map.of("a", T.f32(rows(1, 4, 1)), "b", T.f32(rows(1, 4, 2))), null);
        EmbeddingFormatException ex = assertThrows(EmbeddingFormatException.class, () -> EmbeddingFile.read(f));
        assertTrue(ex.getMessage().contains("no embedding found"), ex.getMessage());

        Path g = dir.resolve("junk.safetensors");
        Files.write(g, new byte[] {1, 2, 3});
        assertThrows(EmbeddingFormatException.class, () -> EmbeddingFile.read(g));
    }

    @Test
    void folderPicksUpNewChangedAndRemovedFilesAndListsSkippedOnes() throws Exception {
        Path folder = dir.resolve("embeddings");
        EmbeddingFolder source = new EmbeddingFolder(folder);
        assertTrue(source.loaded().isEmpty(), "a missing folder holds nothing");
        Files.createDirectories(folder.resolve("sub"));

        float[][] a = rows(2, 16, 9);
        Fixtures.safetensors(folder.resolve("my-thing.safetensors"), Map.of("emb_params", T.f32(a)), null);
        Fixtures.a1111Pt(folder.resolve("sub/other.pt"), "other", T.f32(rows(1, 16, 10)));
        Fixtures.torchZip(folder.resolve("evil.pt"), maliciousPickle("posix", "system", dir.resolve("x")), Map.of());
        Files.writeString(folder.resolve("notes.txt"), "not an embedding");

        Map<String, float[][]> now = source.embeddings();
        assertEquals(List.of("my-thing", "other"), List.copyOf(now.keySet()));
        assertVectors(a, now.get("my-thing"));
        List<Skipped> skipped = source.skipped();
        assertEquals(1, skipped.size());
        assertEquals("evil.pt", skipped.get(0).file());
        assertTrue(skipped.get(0).reason().contains("posix.system"), skipped.get(0).reason());

        // changed in place: read again
        float[][] b = rows(3, 16, 11);
        Path mine = folder.resolve("my-thing.safetensors");
        Fixtures.safetensors(mine, Map.of("emb_params", T.f32(b)), null);
        Files.setLastModifiedTime(mine, FileTime.fromMillis(Files.getLastModifiedTime(mine).toMillis() + 5000));
        assertVectors(b, source.embeddings().get("my-thing"));

        // the same word twice: the second file is skipped, saying which one has the word
        Fixtures.safetensors(folder.resolve("sub/my-thing.safetensors"), Map.of("emb_params", T.f32(a)), null);
        assertTrue(source.skipped().stream().anyMatch(s -> s.reason().contains("already taken")), source.skipped().toString());

        Files.delete(folder.resolve("sub/other.pt"));
        assertNull(source.embeddings().get("other"));
        assertNotNull(source.embeddings().get("my-thing"));
        assertEquals("my-thing.safetensors", source.loaded().stream().filter(e -> e.name().equals("my-thing"))
                .findFirst().orElseThrow().file());
    }
}
