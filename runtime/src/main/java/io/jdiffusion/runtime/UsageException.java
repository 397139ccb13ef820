package io.jdiffusion.runtime;

/** A bad command line: the message says what is wrong; the launcher prints the usage and exits with 2. */
public class UsageException extends Exception {
    public UsageException(String message) {
        super(message);
    }
}
