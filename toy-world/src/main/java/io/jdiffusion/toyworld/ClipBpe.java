package io.jdiffusion.toyworld;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The pieces of CLIP's byte-level BPE that the trainer and the tokenizer share. */
public final class ClipBpe {
    private ClipBpe() {
    }

    public static final String END_OF_WORD = "</w>";
    public static final String BOS = "<|startoftext|>";
    public static final String EOS = "<|endoftext|>";

    /** CLIP's (and GPT-2's) split pattern; the text is whitespace-cleaned and lower-cased first. */
    static final Pattern SPLIT = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern WHITESPACE = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);

    private static final int[] BYTE_ORDER = new int[256];
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        List<Integer> bs = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) bs.add(b);
        for (int b = 0xA1; b <= 0xAC; b++) bs.add(b);
        for (int b = 0xAE; b <= 0xFF; b++) bs.add(b);
        List<Integer> cs = new ArrayList<>(bs);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (!bs.contains(b)) {
                bs.add(b);
                cs.add(256 + n);
                n++;
            }
        }
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        for (int i = 0; i < 256; i++) {
            BYTE_ORDER[i] = bs.get(i);
            BYTE_TO_CHAR[bs.get(i)] = (char) (int) cs.get(i);
            CHAR_TO_BYTE[cs.get(i)] = bs.get(i);
        }
    }

    /** The 256 byte symbols in {@code bytes_to_unicode()} order: vocabulary ids 0..255. */
    public static List<String> byteSymbols() {
        List<String> out = new ArrayList<>(256);
        for (int i = 0; i < 256; i++) out.add(String.valueOf(BYTE_TO_CHAR[BYTE_ORDER[i]]));
        return out;
    }

    /** A word's UTF-8 bytes, each mapped to its printable symbol. */
    public static String byteEncode(String word) {
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) sb.append(BYTE_TO_CHAR[b & 0xFF]);
        return sb.toString();
    }

    /** The inverse of {@link #byteEncode}, for decoding. */
    public static byte[] byteDecode(String symbols) {
        byte[] out = new byte[symbols.length()];
        for (int i = 0; i < symbols.length(); i++) {
            char c = symbols.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) throw new IllegalArgumentException("not a byte symbol: " + c);
            out[i] = (byte) b;
        }
        return out;
    }

    /** whitespace_clean + lower-case, then CLIP's regex split. */
    public static List<String> preTokenize(String text) {
        String clean = WHITESPACE.matcher(text).replaceAll(" ").strip().toLowerCase(java.util.Locale.ROOT);
        List<String> out = new ArrayList<>();
        Matcher m = SPLIT.matcher(clean);
        while (m.find()) out.add(m.group());
        return out;
    }

    /** A byte-encoded word as its initial symbols: one per character, the last one with {@code </w>}. */
    public static List<String> initialSymbols(String encodedWord) {
        List<String> out = new ArrayList<>(encodedWord.length());
        for (int i = 0; i < encodedWord.length(); i++) {
            String s = String.valueOf(encodedWord.charAt(i));
            out.add(i == encodedWord.length() - 1 ? s + END_OF_WORD : s);
        }
        return out;
    }
}
