package io.jdiffusion.engine;

import io.jdiffusion.api.service.InvalidRequestException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.CancellationException;

/**
 * Stands between the engine and one plugin service: whatever the plugin throws (a bug, a
 * {@link NoClassDefFoundError} after its bundle went away) comes out as a {@link PluginFailure} that names
 * the plugin and its bundle, so a broken plugin fails its request with a clear message and nothing else.
 * A request error ({@link InvalidRequestException}), a cancellation, or a failure of a nested plugin passes
 * through unchanged.
 */
final class PluginGuard implements InvocationHandler {
    private final Object target;
    private final String description;
    private volatile boolean unloaded;

    private PluginGuard(Object target, String description) {
        this.target = target;
        this.description = description;
    }

    /** The service behind an interface proxy that reports its failures as the {@code kind} {@code id} of {@code bundle}. */
    static <T> T wrap(Class<T> type, T service, String kind, String id, String bundle) {
        PluginGuard guard = new PluginGuard(service, kind + " '" + id + "' (plugin " + bundle + ")");
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, guard));
    }

    /** The plugin's own object behind {@code service} (itself when it is not guarded). */
    static Object target(Object service) {
        return guardOf(service) instanceof PluginGuard g ? g.target : service;
    }

    /** Marks the service as gone (its bundle stopped), so a run still using it says so when it fails. */
    static void markUnloaded(Object service) {
        if (guardOf(service) instanceof PluginGuard g) g.unloaded = true;
    }

    private static Object guardOf(Object service) {
        return service != null && Proxy.isProxyClass(service.getClass()) ? Proxy.getInvocationHandler(service) : null;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
                case "equals" -> proxy == args[0];
                case "hashCode" -> System.identityHashCode(proxy);
                default -> description;
            };
        }
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof InvalidRequestException || cause instanceof CancellationException
                    || cause instanceof PluginFailure || cause instanceof VirtualMachineError) {
                throw cause;
            }
            String what = unloaded ? description + " was unloaded while this request was running; try again"
                    : description + " failed in " + method.getName() + "()";
            throw new PluginFailure(what + ": " + message(cause), cause);
        }
    }

    private static String message(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getName() : t.getClass().getSimpleName() + ": " + m;
    }

    /** A plugin call that failed; the message names the plugin and its bundle. */
    static final class PluginFailure extends RuntimeException {
        PluginFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
