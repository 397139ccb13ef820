package io.jdiffusion.runtime;

import io.jdiffusion.api.service.InvalidRequestException;
import io.jdiffusion.api.service.SamplerTracer;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * {@code sampler-trace}: runs a sampler plugin exactly as the txt2img loop does, on SD 1.5's
 * scheduler config, with diffusers' scheduler-test model and sample in place of the UNet, and
 * prints {@code sum=... mean=...} of the final latents last, for comparison with diffusers.
 */
final class SamplerTraceCommand {
    static final Set<String> VALUED = ServeCommand.union(Set.of("plugins", "bundles"), Set.of(
            "sampler", "schedule", "prediction", "steps", "seed", "eta", "param", "timeout"));

    private SamplerTraceCommand() {
    }

    static int run(String[] argv) throws Exception {
        Args a = Args.parse(argv, 1, VALUED, Launch.FLAGS);
        String sampler = a.require("sampler");
        String prediction = a.choice("prediction", "epsilon", java.util.List.of("epsilon", "v_prediction"));
        Integer steps = a.integer("steps");
        if (steps == null) throw new UsageException("--steps is required");
        long seed = seed(a.get("seed", "0"));
        Map<String, Object> params = GenerateCommand.params(a.all("param"));
        if (a.has("eta")) params.put("eta", a.number("eta"));
        // no model is needed: the engine starts on an empty model list
        Map<String, String> p = new java.util.HashMap<>();
        p.put("sd.device", "cpu");
        p.put("sd.http.enabled", "false");
        try (SdRuntime runtime = Launch.boot(a, p)) {
            Integer timeout = a.integer("timeout");
            int seconds = timeout == null ? 60 : timeout;
            SamplerTracer tracer = runtime.awaitService(SamplerTracer.class, Duration.ofSeconds(seconds));
            if (tracer == null) {
                System.err.println("error: the engine did not start within " + seconds + " s");
                return 1;
            }
            try {
                System.out.println(tracer.trace(sampler, a.get("schedule"), prediction, steps, seed, params));
            } catch (InvalidRequestException e) {
                System.err.println("error: " + e.getMessage());
                return 2;
            }
            return 0;
        }
    }

    private static long seed(String s) throws UsageException {
        try {
            BigInteger b = new BigInteger(s.trim());
            if (b.signum() < 0 || b.bitLength() > 64) throw new NumberFormatException();
            return b.longValue();
        } catch (NumberFormatException e) {
            throw new UsageException("--seed must be a whole number from 0 to 2^64-1, got '" + s + "'");
        }
    }
}
