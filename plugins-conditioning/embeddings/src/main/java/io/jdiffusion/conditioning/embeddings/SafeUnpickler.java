package io.jdiffusion.conditioning.embeddings;

import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.PickleUtils;
import net.razorvine.pickle.Unpickler;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pyrolite's unpickler restricted to what a saved tensor dictionary uses. Pyrolite on its own turns
 * any unknown global into a {@code ClassDict} and carries on; here every global is looked up in an
 * allow-list and anything else (os.system, builtins.eval, ...) ends the load with an
 * {@link EmbeddingFormatException} before it is called: nothing named by the file is executed, and
 * REDUCE / NEWOBJ / BUILD only ever apply the allow-listed constructors below.
 *
 * <p>Tensors come back as {@link TensorRef}s (storage key, offset, size, stride): their bytes are
 * read afterwards, since a legacy torch file stores them after the pickle.
 */
final class SafeUnpickler extends Unpickler {
    /** Storage classes in torch's persistent ids, with the dtype of their elements. */
    static final Map<String, String> STORAGE_DTYPES = Map.ofEntries(
            Map.entry("torch.FloatStorage", "F32"),
            Map.entry("torch.HalfStorage", "F16"),
            Map.entry("torch.BFloat16Storage", "BF16"),
            Map.entry("torch.DoubleStorage", "F64"),
            // integer storages: the original textual inversion keeps string_to_token as a long tensor
            Map.entry("torch.LongStorage", "I64"),
            Map.entry("torch.IntStorage", "I32"),
            Map.entry("torch.ShortStorage", "I16"),
            Map.entry("torch.CharStorage", "I8"),
            Map.entry("torch.ByteStorage", "U8"),
            Map.entry("torch.BoolStorage", "BOOL"));

    /** Tensor classes that {@code torch._tensor._rebuild_from_type_v2} may name. */
    private static final Set<String> TENSOR_TYPES = Set.of("torch.Tensor", "torch.nn.parameter.Parameter");

    /** A storage class named in a persistent id: only a marker, never called. */
    record StorageType(String name) {
    }

    /** A tensor class named by {@code _rebuild_from_type_v2}: only a marker, never called. */
    record TensorType(String name) {
    }

    /** A torch storage the pickle refers to by key; its bytes are in the archive. */
    record StorageRef(String key, String dtype, long numel) {
    }

    /** {@code _rebuild_tensor_v2}'s arguments: a view of a storage. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
    }

    /** A pickled {@code torch.nn.ParameterDict} (old textual-inversion files): its state holds {@code _parameters}. */
    static final class ModuleState {
        final Map<Object, Object> state = new LinkedHashMap<>();
    }

    /** One allow-listed callable. */
    private interface Allowed {
        Object call(Object[] args);
    }

    @Override
    protected Object dispatch(short key) throws IOException {
        switch (key) {
            case Opcodes.GLOBAL -> {
                String module = PickleUtils.readline(input);
                String name = PickleUtils.readline(input);
                stack.add(global(module, name));
                return NO_RETURN_VALUE;
            }
            case Opcodes.STACK_GLOBAL -> {
                Object name = stack.pop();
                Object module = stack.pop();
                stack.add(global(String.valueOf(module), String.valueOf(name)));
                return NO_RETURN_VALUE;
            }
            case Opcodes.REDUCE, Opcodes.NEWOBJ -> {
                Object args = stack.pop();
                Object callable = stack.pop();
                if (!(callable instanceof Allowed a)) {
                    throw refused("it calls " + describe(callable) + ", which is not a tensor-dictionary constructor");
                }
                stack.add(a.call(args instanceof Object[] t ? t : new Object[] {args}));
                return NO_RETURN_VALUE;
            }
            case Opcodes.BUILD -> {
                Object state = stack.pop();
                Object target = stack.peek();
                if (!(target instanceof ModuleState m) || !(state instanceof Map<?, ?> s)) {
                    throw refused("it sets the state of " + describe(target) + ", which only a ParameterDict may have");
                }
                s.forEach(m.state::put);
                return NO_RETURN_VALUE;
            }
            case Opcodes.INST, Opcodes.OBJ, Opcodes.NEWOBJ_EX, Opcodes.EXT1, Opcodes.EXT2, Opcodes.EXT4 -> throw refused(
                    "it uses pickle opcode 0x" + Integer.toHexString(key) + " to build arbitrary objects");
            default -> {
                return super.dispatch(key);
            }
        }
    }

    /** The allow-list: torch's tensor rebuilding, OrderedDict, storage and tensor class markers. */
    private Object global(String module, String name) {
        String qualified = module + "." + name;
        if (STORAGE_DTYPES.containsKey(qualified)) {
            return new StorageType(qualified);
        }
        if (TENSOR_TYPES.contains(qualified)) {
            return new TensorType(qualified);
        }
        return switch (qualified) {
            case "torch._utils._rebuild_tensor_v2" -> (Allowed) SafeUnpickler::rebuildTensor;
            case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" ->
                    (Allowed) args -> tensorArg(args, 0, qualified);
            case "torch._tensor._rebuild_from_type_v2" -> (Allowed) SafeUnpickler::rebuildFromType;
            case "collections.OrderedDict" -> (Allowed) SafeUnpickler::orderedDict;
            case "torch.nn.modules.container.ParameterDict" -> (Allowed) args -> new ModuleState();
            default -> throw refused("it names the global " + qualified
                    + ", which is not part of a tensor dictionary (allowed: torch tensor rebuilding, storages, OrderedDict)");
        };
    }

    /** torch's persistent id: {@code ('storage', storage class, key, location, numel[, view metadata])}. */
    @Override
    protected Object persistentLoad(Object pid) {
        if (!(pid instanceof Object[] t) || t.length < 5 || !"storage".equals(t[0]) || !(t[1] instanceof StorageType type)) {
            throw refused("its persistent id " + describe(pid) + " is not a torch storage");
        }
        return new StorageRef(String.valueOf(t[2]), STORAGE_DTYPES.get(type.name()), number(t[4], "numel"));
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private static Object rebuildTensor(Object[] args) {
        if (args.length < 4 || !(args[0] instanceof StorageRef storage)) {
            throw refused("_rebuild_tensor_v2 is called without a storage");
        }
        return new TensorRef(storage, number(args[1], "storage_offset"), longs(args[2]), longs(args[3]));
    }

    /** {@code _rebuild_from_type_v2(func, type, args, state)}: only for rebuilding a plain tensor or parameter. */
    private static Object rebuildFromType(Object[] args) {
        if (args.length < 3 || !(args[0] instanceof Allowed f) || !(args[1] instanceof TensorType)
                || !(args[2] instanceof Object[] inner)) {
            throw refused("_rebuild_from_type_v2 is called on something other than a tensor");
        }
        return tensorArg(new Object[] {f.call(inner)}, 0, "torch._tensor._rebuild_from_type_v2");
    }

    private static Object tensorArg(Object[] args, int i, String what) {
        if (args.length <= i || !(args[i] instanceof TensorRef)) {
            throw refused(what + " is called without a tensor");
        }
        return args[i];
    }

    private static Object orderedDict(Object[] args) {
        Map<Object, Object> m = new LinkedHashMap<>();
        if (args.length == 1 && args[0] instanceof List<?> pairs) { // OrderedDict([(k, v), ...])
            for (Object p : pairs) {
                if (p instanceof Object[] kv && kv.length == 2) {
                    m.put(kv[0], kv[1]);
                }
            }
        } else if (args.length != 0) {
            throw refused("OrderedDict is called with " + args.length + " arguments");
        }
        return m;
    }

    private static long number(Object o, String what) {
        if (o instanceof Number n) {
            return n.longValue();
        }
        throw refused(what + " is " + describe(o) + ", not a number");
    }

    private static long[] longs(Object o) {
        if (!(o instanceof Object[] t)) {
            throw refused("a tensor size/stride is " + describe(o) + ", not a tuple");
        }
        long[] out = new long[t.length];
        for (int i = 0; i < t.length; i++) {
            out[i] = number(t[i], "a tensor dimension");
        }
        return out;
    }

    static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Object[] t) {
            return "a tuple of " + t.length;
        }
        if (o instanceof StorageType s) {
            return s.name();
        }
        return "a " + o.getClass().getSimpleName();
    }

    static EmbeddingFormatException refused(String why) {
        return new EmbeddingFormatException("refused pickle (nothing in it was executed): " + why);
    }
}
