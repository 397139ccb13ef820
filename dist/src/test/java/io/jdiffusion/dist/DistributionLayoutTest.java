package io.jdiffusion.dist;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** target/sd as docs/contracts.md describes it: the host class path in lib/, the boot bundles in bundles/. */
class DistributionLayoutTest {
    private static List<String> jars(String folder) throws Exception {
        try (Stream<Path> s = Files.list(SdServer.distDir().resolve(folder))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jar")).sorted().toList();
        }
    }

    private static boolean has(List<String> jars, String prefix) {
        return jars.stream().anyMatch(j -> j.startsWith(prefix));
    }

    @Test
    void libIsTheHostClassPath() throws Exception {
        List<String> lib = jars("lib");
        for (String p : List.of("sd-runtime-", "org.apache.felix.framework-", "sd-api-", "sd-toy-world-", "onnxruntime",
                "tokenizers-", "jackson-databind-", "javalin-", "jetty-server-", "kotlin-stdlib-", "slf4j-api-",
                "slf4j-simple-", "protobuf-java-")) {
            assertTrue(has(lib, p), p + " missing from lib/: " + lib);
        }
        for (String p : List.of("org.apache.felix.scr-", "org.apache.felix.fileinstall-", "sd-engine-", "sd-server-",
                "junit-", "selenium-", "osgi.core-")) {
            assertFalse(has(lib, p), p + " must not be on the host class path: " + lib);
        }
    }

    @Test
    void bundlesHoldsTheBootBundlesAndNothingElse() throws Exception {
        List<String> bundles = jars("bundles");
        for (String p : List.of("org.apache.felix.scr-", "org.osgi.service.component-", "org.osgi.util.promise-",
                "org.osgi.util.function-", "org.apache.felix.fileinstall-", "sd-engine-", "sd-server-", "sd-web-ui-",
                "sd-sampler-ddim-", "sd-sampler-euler-", "sd-mode-txt2img-", "sd-conditioning-clip-",
                "sd-prompt-a1111-", "sd-embeddings-")) {
            assertTrue(has(bundles, p), p + " missing from bundles/: " + bundles);
        }
        assertFalse(has(bundles, "sd-api-"), "the api is exported by the host, a second copy would split the SPI");
        for (String b : bundles) {
            try (JarFile jar = new JarFile(SdServer.distDir().resolve("bundles").resolve(b).toFile())) {
                assertNotNull(jar.getManifest().getMainAttributes().getValue("Bundle-SymbolicName"), b + " is not a bundle");
            }
        }
    }
}
