package io.jdiffusion.conditioning.embeddings;

/** A file that is not a usable embedding; the message says why (listed as the skip reason). */
final class EmbeddingFormatException extends RuntimeException {
    EmbeddingFormatException(String message) {
        super(message);
    }

    EmbeddingFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
