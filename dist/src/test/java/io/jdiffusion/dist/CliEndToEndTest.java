package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The command line ({@code ./sd generate}, {@code make-toy-model}, {@code serve} without --model) end to end. */
@Timeout(600)
class CliEndToEndTest {
    private record Result(int code, String output) {
    }

    private static Result main(Map<String, String> env, String... args) throws IOException, InterruptedException {
        Path log = Files.createTempFile(SdServer.targetDir(), "sd-cli-", ".log");
        Process p = SdServer.command(List.of(args), env).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("sd " + String.join(" ", args) + " did not finish in 5 minutes:\n" + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }

    private static String[] generate(Path plugins, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("generate", "--prompt", "a red circle on a white background",
                "--steps", "20", "--seed", "1", "--model", ToyModel.dir().toString(),
                "--plugins", plugins.toString(), "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void generateWritesARedCircle() throws Exception {
        Path dir = Files.createTempDirectory(SdServer.targetDir(), "cli-");
        Path out = dir.resolve("out/red.png");
        Result r = main(Map.of(), generate(dir.resolve("plugins"), out));
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("wrote " + out), r.output());
        BufferedImage img = Png.image(Files.readAllBytes(out));
        assertEquals(512, img.getWidth());
        assertEquals(512, img.getHeight());
        assertEquals("red", Png.centre(img));
        try (var files = Files.list(out.getParent())) {
            assertEquals(List.of(out), files.toList(), "no temp file left beside it");
        }
    }

    @Test
    void generateUsesTheEmbeddingsFolderAndClipSkip() throws Exception {
        Path dir = Files.createTempDirectory(SdServer.targetDir(), "cli-");
        Path embeddings = Files.createDirectories(dir.resolve("embeddings"));
        Files.write(embeddings.resolve("my-thing.safetensors"),
                EmbeddingsEndToEndTest.safetensors("<my-thing>", EmbeddingsEndToEndTest.orangeStar()));
        Path out = dir.resolve("thing.png");
        List<String> a = new ArrayList<>(List.of(generate(dir.resolve("plugins"), out, "--embeddings", embeddings.toString())));
        a.set(a.indexOf("--prompt") + 1, "a my-thing on a purple background");
        Result r = main(Map.of(), a.toArray(String[]::new));
        assertEquals(0, r.code(), r.output());
        assertEquals("orange", Png.centre(Png.image(Files.readAllBytes(out))));

        Path skipped = dir.resolve("skip.png");
        r = main(Map.of(), generate(dir.resolve("plugins"), skipped, "--clip-skip", "2"));
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("Clip skip: 2"), r.output());
    }

    @Test
    void anInvalidRequestExitsWithTwoNamingTheField() throws Exception {
        Path dir = Files.createTempDirectory(SdServer.targetDir(), "cli-");
        Path out = dir.resolve("bad.png");
        Result r = main(Map.of(), generate(dir.resolve("plugins"), out, "--steps", "0"));
        assertEquals(2, r.code(), r.output());
        assertTrue(r.output().contains("error: steps"), r.output());
        assertTrue(Files.notExists(out));
    }

    @Test
    void tokenizePrintsTheIdsOfTheModelsTokenizer() throws Exception {
        Path plugins = Files.createTempDirectory(SdServer.targetDir(), "cli-").resolve("plugins");
        Path tok = ToyModel.dir().resolve("tokenizer");
        Result r = main(Map.of(), "tokenize", "--plugins", plugins.toString(), "--tokenizer", tok.toString(),
                "a red circle on a white background");
        assertEquals(0, r.code(), r.output());
        String[] lines = r.output().strip().split("\n");
        io.jdiffusion.toyworld.ToyTokenizer toy = io.jdiffusion.toyworld.ToyTokenizer.load(tok);
        List<Integer> expected = new ArrayList<>(List.of(toy.bosId()));
        for (int id : toy.encode("a red circle on a white background")) {
            expected.add(id);
        }
        expected.add(toy.eosId());
        assertEquals(expected.toString().replace(" ", ""), lines[lines.length - 1]);
    }

    @Test
    void samplerTracePrintsSumAndMeanLast() throws Exception {
        Path plugins = Files.createTempDirectory(SdServer.targetDir(), "cli-").resolve("plugins");
        Result r = main(Map.of(), "sampler-trace", "--plugins", plugins.toString(), "--sampler", "ddim", "--steps", "10");
        assertEquals(0, r.code(), r.output());
        String[] lines = r.output().strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("sum=[0-9.]+ mean=[0-9.]+"), r.output());
        Result bad = main(Map.of(), "sampler-trace", "--plugins", plugins.toString(), "--sampler", "ddim",
                "--schedule", "karras", "--steps", "10");
        assertEquals(2, bad.code(), bad.output());
        assertTrue(bad.output().contains("schedule"), bad.output());
    }

    @Test
    void makeToyModelWritesTheFolder() throws Exception {
        Path out = Files.createTempDirectory(SdServer.targetDir(), "toy-").resolve("model");
        Result r = main(Map.of(), "make-toy-model", "--out", out.toString());
        assertEquals(0, r.code(), r.output());
        for (String f : List.of("model_index.json", "unet/model.onnx", "text_encoder/model.onnx", "vae_decoder/model.onnx",
                "tokenizer/vocab.json", "scheduler/scheduler_config.json")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
    }

    @Test
    void serveWithoutModelUsesTheToyWorldFromTheCache() throws Exception {
        Path cache = Files.createTempDirectory(SdServer.targetDir(), "xdg-");
        Path plugins = Files.createTempDirectory(SdServer.targetDir(), "plugins-");
        try (SdServer sd = SdServer.start(plugins, Map.of("XDG_CACHE_HOME", cache.toString()))) {
            assertEquals(200, Http.get(sd.baseUrl() + "api/v1/health").status());
        }
        try (var dirs = Files.list(cache.resolve("jdiffusion"))) {
            List<Path> models = dirs.toList();
            assertEquals(1, models.size(), models.toString());
            assertTrue(models.get(0).getFileName().toString().startsWith("toy-world-"), models.toString());
            assertTrue(Files.isRegularFile(models.get(0).resolve("model_index.json")));
        }
    }
}
