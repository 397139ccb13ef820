package io.jdiffusion.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WebUiFilesTest {
    @Test
    void plainRelativePathsAreSafe() {
        assertTrue(WebUiFiles.safe("index.html"));
        assertTrue(WebUiFiles.safe("app.js"));
        assertTrue(WebUiFiles.safe("icons/dice-1.svg"));
    }

    @Test
    void traversalAndOddPathsAreNot() {
        for (String p : new String[] {"", "..", "../x", "a/../b", "a/..", ".hidden", "/etc/passwd", "a//b", "a/",
                "a\\b", "..\\x", "a/./b", "%2e%2e/x", "x:y", "a b"}) {
            assertFalse(WebUiFiles.safe(p), p);
        }
    }

    @Test
    void contentTypes() {
        assertEquals("text/html; charset=utf-8", WebUiFiles.contentType("index.html"));
        assertEquals("text/javascript; charset=utf-8", WebUiFiles.contentType("app.js"));
        assertEquals("text/css; charset=utf-8", WebUiFiles.contentType("style.css"));
        assertEquals("image/svg+xml", WebUiFiles.contentType("a/b.SVG"));
        assertEquals("application/octet-stream", WebUiFiles.contentType("README"));
    }
}
