package io.jdiffusion.runtime;

import io.jdiffusion.api.service.TokenizerService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code tokenize --tokenizer DIR TEXT}: the CLIP ids of TEXT (BOS and EOS included, no padding
 * or truncation) as a JSON array on the last line, using the conditioning plugin's tokenizer.
 */
final class TokenizeCommand {
    static final Set<String> VALUED = Set.of("tokenizer", "plugins", "bundles", "timeout");

    private TokenizeCommand() {
    }

    static int run(String[] argv) throws Exception {
        // the text is the one positional argument (it may start with anything but "--")
        List<String> options = new ArrayList<>();
        String text = null;
        for (int i = 1; i < argv.length; i++) {
            String a = argv[i];
            if (a.startsWith("--") && a.length() > 2) {
                options.add(a);
                String name = a.substring(2);
                if (VALUED.contains(name) && i + 1 < argv.length) {
                    options.add(argv[++i]);
                }
            } else if (text == null) {
                text = a;
            } else {
                throw new UsageException("tokenize takes one TEXT argument (quote it), got another: " + a);
            }
        }
        options.add(0, "tokenize");
        Args a = Args.parse(options.toArray(String[]::new), 1, VALUED, Launch.FLAGS);
        Path dir = Path.of(a.require("tokenizer")).toAbsolutePath().normalize();
        if (text == null) {
            throw new UsageException("tokenize needs the TEXT to tokenize");
        }
        if (!Files.isRegularFile(dir.resolve("vocab.json")) || !Files.isRegularFile(dir.resolve("merges.txt"))) {
            throw new UsageException("--tokenizer: " + dir + " must hold vocab.json and merges.txt");
        }
        Map<String, String> p = new HashMap<>();
        p.put("sd.device", "cpu");
        p.put("sd.http.enabled", "false");
        try (SdRuntime runtime = Launch.boot(a, p)) {
            Integer timeout = a.integer("timeout");
            int seconds = timeout == null ? 60 : timeout;
            TokenizerService tokenizer = runtime.awaitService(TokenizerService.class, Duration.ofSeconds(seconds));
            if (tokenizer == null) {
                System.err.println("error: no tokenizer plugin started within " + seconds + " s");
                return 1;
            }
            List<Integer> ids = tokenizer.tokenize(dir, text);
            System.out.println(ids.toString().replace(" ", ""));
            return 0;
        }
    }
}
