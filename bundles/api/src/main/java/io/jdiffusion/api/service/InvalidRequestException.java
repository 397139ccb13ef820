package io.jdiffusion.api.service;

/** A request a person must fix: the message names the field and what is allowed. */
public class InvalidRequestException extends RuntimeException {
    private final String field;

    public InvalidRequestException(String field, String message) {
        super(field + ": " + message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
