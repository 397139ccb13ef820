package io.jdiffusion.api.service;

import java.nio.file.Path;
import java.util.List;

/** Tokenizes text with the tokenizer files of a folder ({@code vocab.json} + {@code merges.txt}), for tools. */
public interface TokenizerService {
    /** Every id, BOS and EOS included, no padding or truncation. */
    List<Integer> tokenize(Path tokenizerDir, String text);
}
