package io.jdiffusion.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true));
        System.setErr(new PrintStream(e, true));
        try {
            return new Run(Main.run(args), o.toString(), e.toString());
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void helpPrintsUsageAndExitsZero() {
        Run r = run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("usage: sd COMMAND"), r.out());
        assertEquals(0, run("generate", "--help").code());
    }

    @Test
    void usageErrorsExitWithTwo() {
        for (List<String> args : List.of(List.<String>of(), List.of("bogus"), List.of("serve", "--bogus"),
                List.of("serve", "--port", "abc"), List.of("serve", "--port", "70000"), List.of("serve", "--port"),
                List.of("serve", "stray"), List.of("serve", "--device", "tpu"),
                List.of("generate", "--out", "x.png"), List.of("generate", "--prompt", "a red circle"),
                List.of("generate", "--prompt", "p", "--out", "x.png", "--steps", "many"),
                List.of("generate", "--prompt", "p", "--out", "x.png", "--param", "novalue"),
                List.of("make-toy-model"))) {
            Run r = run(args.toArray(String[]::new));
            assertEquals(2, r.code(), args + ": " + r.err());
            assertTrue(r.err().contains("usage: sd COMMAND"), r.err());
        }
        assertTrue(run("serve", "--port", "abc").err().contains("--port needs a whole number, got 'abc'"));
        assertTrue(run("serve", "--device", "tpu").err().contains("--device must be one of auto, cpu, cuda"));
    }

    @Test
    void badCudaOptionsAndResidentCountsAreUsageErrorsNamingTheOption() {
        Run algo = run("serve", "--port", "0", "--device", "cuda", "--cuda-option", "cudnn_conv_algo_search=FAST");
        assertEquals(2, algo.code(), algo.err());
        assertTrue(algo.err().contains("--cuda-option: CUDA option cudnn_conv_algo_search must be one of EXHAUSTIVE,"
                + " HEURISTIC, DEFAULT, got 'FAST'"), algo.err());
        Run mem = run("generate", "--prompt", "p", "--out", "x.png", "--cuda-option", "gpu_mem_limit=lots");
        assertEquals(2, mem.code(), mem.err());
        assertTrue(mem.err().contains("gpu_mem_limit must be a positive number of bytes"), mem.err());
        Run unknown = run("serve", "--port", "0", "--cuda-option", "arena=kSameAsRequested");
        assertEquals(2, unknown.code(), unknown.err());
        assertTrue(unknown.err().contains("unknown CUDA option 'arena'; known: device_id, gpu_mem_limit,"
                + " arena_extend_strategy, cudnn_conv_algo_search"), unknown.err());
        Run resident = run("serve", "--port", "0", "--resident", "0");
        assertEquals(2, resident.code(), resident.err());
        assertTrue(resident.err().contains("--resident must be 1 or more"), resident.err());
    }

    @Test
    void batchFilesAreNumberedAndWrittenWhole() throws Exception {
        Path out = tmp.resolve("sub/img.png");
        List<Path> one = GenerateCommand.write(List.of(new byte[] {1, 2}), out);
        assertEquals(List.of(out), one);
        List<Path> two = GenerateCommand.write(List.of(new byte[] {1}, new byte[] {2}), out);
        assertEquals(List.of(tmp.resolve("sub/img-1.png"), tmp.resolve("sub/img-2.png")), two);
        try (var s = Files.list(tmp.resolve("sub"))) {
            assertEquals(3, s.count(), "no temp files left");
        }
    }

    @Test
    void paramsAreTyped() throws Exception {
        assertEquals(java.util.Map.of("eta", 0.5, "n", 3L, "karras", true, "name", "x"),
                GenerateCommand.params(List.of("eta=0.5", "n=3", "karras=true", "name=x")));
    }
}
