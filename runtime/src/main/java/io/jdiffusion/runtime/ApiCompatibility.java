package io.jdiffusion.runtime;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.Version;
import org.osgi.framework.namespace.PackageNamespace;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRequirement;
import org.osgi.framework.wiring.BundleRevision;

/**
 * Says, in words a plugin author can act on, when a plugin does not resolve because it was built against
 * another major version of the plugin API ({@code io.jdiffusion.api*}, semantically versioned): Felix only
 * says "missing requirement" with an LDAP filter.
 */
final class ApiCompatibility {
    static final String API_PACKAGE = "io.jdiffusion.api";
    private static final Pattern LOW = Pattern.compile("\\(version>=([^)]+)\\)");
    private static final Pattern HIGH = Pattern.compile("\\(!\\(version>=([^)]+)\\)\\)");

    private ApiCompatibility() {
    }

    /**
     * Why {@code b} cannot use the host's plugin API, or null when every {@code io.jdiffusion.api*} import it
     * declares accepts the version the host exports.
     */
    static String refusal(BundleContext ctx, Bundle b) {
        BundleRevision plugin = b.adapt(BundleRevision.class);
        BundleRevision host = ctx.getBundle(Constants.SYSTEM_BUNDLE_LOCATION).adapt(BundleRevision.class);
        if (plugin == null || host == null) return null;
        List<BundleCapability> exports = host.getDeclaredCapabilities(PackageNamespace.PACKAGE_NAMESPACE);
        for (BundleRequirement req : plugin.getDeclaredRequirements(PackageNamespace.PACKAGE_NAMESPACE)) {
            String filter = req.getDirectives().get(PackageNamespace.REQUIREMENT_FILTER_DIRECTIVE);
            if (filter == null) continue;
            for (BundleCapability cap : exports) {
                Object pkg = cap.getAttributes().get(PackageNamespace.PACKAGE_NAMESPACE);
                if (!(pkg instanceof String name) || !isApi(name)) continue;
                if (!filter.contains("(" + PackageNamespace.PACKAGE_NAMESPACE + "=" + name + ")")) continue;
                if (matches(filter, cap)) continue;
                Object v = cap.getAttributes().get(PackageNamespace.CAPABILITY_VERSION_ATTRIBUTE);
                Version hostVersion = v instanceof Version ver ? ver : Version.emptyVersion;
                String built = "it was built for " + name + " " + range(filter) + ", this server provides "
                        + name + " " + hostVersion;
                Version low = lowerBound(filter);
                if (low.getMajor() == hostVersion.getMajor() && low.compareTo(hostVersion) > 0) {
                    // same major, newer minor: the plugin uses additions this server does not have yet
                    return "plugin API too old on this server: " + built + "; update jdiffusion, or build the plugin"
                            + " against sd-api " + hostVersion.getMajor() + "." + hostVersion.getMinor();
                }
                return "incompatible plugin API version: " + built + "; rebuild it against sd-api "
                        + hostVersion.getMajor() + ".x (imports [" + hostVersion.getMajor() + ".0,"
                        + (hostVersion.getMajor() + 1) + "))";
            }
        }
        return null;
    }

    static boolean isApi(String pkg) {
        return pkg.equals(API_PACKAGE) || pkg.startsWith(API_PACKAGE + ".");
    }

    private static boolean matches(String filter, BundleCapability cap) {
        try {
            Filter f = FrameworkUtil.createFilter(filter);
            return f.matches(cap.getAttributes());
        } catch (InvalidSyntaxException e) {
            return true; // not ours to judge: Felix reports the bad header itself
        }
    }

    /** The {@code version>=} of an import filter; 0.0.0 when it has none. */
    static Version lowerBound(String filter) {
        Matcher low = LOW.matcher(filter.replaceAll(HIGH.pattern(), ""));
        try {
            return low.find() ? Version.parseVersion(low.group(1)) : Version.emptyVersion;
        } catch (IllegalArgumentException e) {
            return Version.emptyVersion;
        }
    }

    /** {@code (&(osgi.wiring.package=p)(version>=2.0.0)(!(version>=3.0.0)))} -> {@code [2.0.0,3.0.0)}. */
    static String range(String filter) {
        Matcher high = HIGH.matcher(filter);
        String upper = high.find() ? high.group(1) : null;
        String withoutHigh = filter.replaceAll(HIGH.pattern(), "");
        Matcher low = LOW.matcher(withoutHigh);
        String lower = low.find() ? low.group(1) : "0.0.0";
        return upper == null ? "version " + lower + " or later" : "[" + lower + "," + upper + ")";
    }
}
