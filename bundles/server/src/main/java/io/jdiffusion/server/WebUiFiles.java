package io.jdiffusion.server;

import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Static files of the web UI ({@code GET /} and {@code GET /<path>}), read from a source that maps
 * a relative path such as {@code app.js} to a URL: the {@code webui/} entries of the
 * {@code io.jdiffusion.webui} bundle at run time (see {@link BundleWebUi}).
 */
final class WebUiFiles {
    /** One path segment: no dot-only names, no separators, nothing outside a plain file-name alphabet. */
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.\\-]*");
    private static final Map<String, String> TYPES = Map.ofEntries(
            Map.entry("html", "text/html; charset=utf-8"),
            Map.entry("js", "text/javascript; charset=utf-8"),
            Map.entry("mjs", "text/javascript; charset=utf-8"),
            Map.entry("css", "text/css; charset=utf-8"),
            Map.entry("json", "application/json; charset=utf-8"),
            Map.entry("map", "application/json; charset=utf-8"),
            Map.entry("txt", "text/plain; charset=utf-8"),
            Map.entry("svg", "image/svg+xml"),
            Map.entry("png", "image/png"),
            Map.entry("jpg", "image/jpeg"),
            Map.entry("jpeg", "image/jpeg"),
            Map.entry("webp", "image/webp"),
            Map.entry("gif", "image/gif"),
            Map.entry("ico", "image/x-icon"),
            Map.entry("woff2", "font/woff2"),
            Map.entry("woff", "font/woff"));

    /** Where the files come from: a relative path to its URL, or null when there is none; null source = no UI bundle. */
    interface Source {
        /** @return the file's URL, or null when absent */
        URL find(String relativePath);

        /** @return false when the UI bundle itself is missing */
        boolean present();
    }

    private final Source source;

    WebUiFiles(Source source) {
        this.source = source;
    }

    /** {@code GET /}. */
    void index(Context ctx) throws IOException {
        if (!source.present()) {
            ctx.status(200).contentType("text/plain; charset=utf-8").result(
                    "jdiffusion is running, but the web UI bundle (io.jdiffusion.webui) is not installed.\n"
                            + "The JSON API is at /api/v1/ (try /api/v1/health).\n");
            return;
        }
        serve(ctx, "index.html");
    }

    /** {@code GET /<path>}. */
    void file(Context ctx) throws IOException {
        serve(ctx, ctx.pathParam("path"));
    }

    private void serve(Context ctx, String path) throws IOException {
        URL url = safe(path) ? source.find(path) : null;
        if (url == null) {
            ctx.status(404).contentType("text/plain; charset=utf-8").result("Not found: /" + path + "\n");
            return;
        }
        byte[] bytes;
        try (InputStream in = url.openStream()) {
            bytes = in.readAllBytes();
        }
        ctx.status(200)
                .contentType(contentType(path))
                .header("Cache-Control", "no-cache")
                .header("X-Content-Type-Options", "nosniff")
                .result(bytes);
    }

    /** Relative, slash-separated, every segment a plain file name: no {@code ..}, no backslash, no empty segment. */
    static boolean safe(String path) {
        if (path == null || path.isEmpty() || path.length() > 512) {
            return false;
        }
        for (String segment : path.split("/", -1)) {
            if (!SEGMENT.matcher(segment).matches() || segment.contains("..")) {
                return false;
            }
        }
        return true;
    }

    static String contentType(String path) {
        int dot = path.lastIndexOf('.');
        String ext = dot < 0 ? "" : path.substring(dot + 1).toLowerCase(Locale.ROOT);
        return TYPES.getOrDefault(ext, "application/octet-stream");
    }
}
