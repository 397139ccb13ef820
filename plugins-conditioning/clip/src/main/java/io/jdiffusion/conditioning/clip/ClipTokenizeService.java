package io.jdiffusion.conditioning.clip;

import io.jdiffusion.api.service.TokenizerService;
import java.nio.file.Path;
import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/** The CLIP tokenizer for tools ({@code ./sd tokenize}): any folder with vocab.json + merges.txt. */
@Component(service = TokenizerService.class)
public class ClipTokenizeService implements TokenizerService {
    private final ClipTokenizerCache cache = new ClipTokenizerCache();

    @Override
    public List<Integer> tokenize(Path tokenizerDir, String text) {
        return cache.get(tokenizerDir).ids(text);
    }

    @Deactivate
    void deactivate() {
        cache.close();
    }
}
