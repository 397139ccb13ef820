package io.jdiffusion.conditioning.clip;

import io.jdiffusion.api.Conditioning;
import io.jdiffusion.api.EmbeddingSource;
import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.PromptParser;
import io.jdiffusion.api.ScheduledConditioning;
import io.jdiffusion.api.ScheduledPrompt;
import io.jdiffusion.api.TextConditioner;
import io.jdiffusion.api.TextModel;
import io.jdiffusion.api.WeightedText;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * CLIP conditioning the way AUTOMATIC1111 does it (modules/sd_hijack_clip.py): the prompt syntax
 * comes from the {@link PromptParser} service named by this component's {@code parser} property
 * ({@value PromptParser#DEFAULT} by default; without one the prompt is plain text). Each text of
 * the prompt's schedule is cut into chunks of 75 tokens ({@link PromptChunker}), every chunk is
 * encoded on its own and the weights applied ({@link Emphasis}), and the chunks are joined along
 * the token axis: a conditioning is {@code 77 x chunks} tokens long. Prompt and negative prompt
 * are padded to the same number of chunks with the empty prompt's encoding.
 */
@Component(service = TextConditioner.class, property = {Plugin.NAME + "=clip", Plugin.LABEL + "=CLIP",
        ClipConditioner.PARSER + "=" + PromptParser.DEFAULT})
public class ClipConditioner implements TextConditioner {
    /** Component property: the {@link Plugin#NAME} of the prompt parser to use. */
    static final String PARSER = "parser";
    /** Steps assumed when counting tokens: A1111's largest step count, so every edit shows. */
    static final int COUNT_STEPS = 150;

    private final ClipTokenizerCache tokenizers;
    private final Map<PromptParser, String> parsers = new ConcurrentHashMap<>();
    private final List<EmbeddingSource> embeddingSources = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile String parserName = PromptParser.DEFAULT;

    public ClipConditioner() {
        this(new ClipTokenizerCache());
    }

    ClipConditioner(ClipTokenizerCache tokenizers) {
        this.tokenizers = tokenizers;
    }

    @Activate
    void activate(Map<String, Object> properties) {
        Object name = properties.get(PARSER);
        if (name != null && !name.toString().isBlank()) {
            parserName = name.toString();
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            unbind = "removeParser")
    public void addParser(PromptParser parser, Map<String, Object> properties) {
        Object name = properties.get(Plugin.NAME);
        parsers.put(parser, name == null ? "" : name.toString());
    }

    public void removeParser(PromptParser parser) {
        parsers.remove(parser);
    }

    /** Textual-inversion embeddings: every source's trigger words work in prompts. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            unbind = "removeEmbeddingSource")
    public void addEmbeddingSource(EmbeddingSource source) {
        embeddingSources.add(source);
    }

    public void removeEmbeddingSource(EmbeddingSource source) {
        embeddingSources.remove(source);
    }

    /** The configured parser, or plain text when no parser of that name is registered. */
    PromptParser parser() {
        for (Map.Entry<PromptParser, String> e : parsers.entrySet()) {
            if (e.getValue().equals(parserName)) {
                return e.getKey();
            }
        }
        return PlainText.INSTANCE;
    }

    /** The prompt as a one-step run sees it: callers that know the steps use {@link #schedule}. */
    @Override
    public Conditioning condition(TextModel model, String prompt, String negativePrompt) {
        List<ScheduledConditioning> s = schedule(model, prompt, negativePrompt, 1);
        return s.get(s.size() - 1).conditioning();
    }

    @Override
    public List<ScheduledConditioning> schedule(TextModel model, String prompt, String negativePrompt, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1: " + steps);
        }
        if (model.secondEncoder() != null) { // SDXL: both encoders side by side, pooled text_embeds
            return XlConditioning.schedule(this, model, prompt, negativePrompt, steps);
        }
        ClipTokenizer tokenizer = tokenizers.get(model.tokenizerDir());
        PromptParser parser = parser();
        List<ScheduledPrompt> positive = parser.schedule(prompt == null ? "" : prompt, steps);
        List<ScheduledPrompt> negative = parser.schedule(negativePrompt == null ? "" : negativePrompt, steps);
        ChunkEncoder encoder = new ChunkEncoder(model, tokenizer, parser,
                EmbeddingVocabulary.of(embeddingSources, tokenizer, model));
        ChunkEncoder.Group pos = encoder.add(positive);
        ChunkEncoder.Group neg = encoder.add(negative);
        encoder.encode();

        // one entry per step boundary of either prompt; each prompt's text is the one active there
        List<Integer> ends = new ArrayList<>();
        positive.forEach(p -> ends.add(p.untilStep()));
        negative.forEach(p -> ends.add(p.untilStep()));
        List<ScheduledConditioning> out = new ArrayList<>();
        Map<List<String>, Conditioning> made = new HashMap<>(); // alternation repeats pairs: share them
        ends.stream().distinct().sorted().forEach(end -> {
            String p = activeAt(positive, end);
            String n = activeAt(negative, end);
            Conditioning c = made.computeIfAbsent(List.of(p, n), k -> new Conditioning(encoder.hidden(pos, p),
                    encoder.hidden(neg, n), encoder.tokens(), model.hiddenWidth()));
            out.add(new ScheduledConditioning(end, c));
        });
        return out;
    }

    /** The text that applies at {@code step}: the first entry that ends at or after it. */
    static String activeAt(List<ScheduledPrompt> schedule, int step) {
        for (ScheduledPrompt p : schedule) {
            if (step <= p.untilStep()) {
                return p.text();
            }
        }
        return schedule.get(schedule.size() - 1).text();
    }

    /**
     * A1111's count: the longest text the prompt can become, 75 per full chunk plus the tokens of the
     * last; the syntax itself (brackets, weights, BREAK) takes no tokens.
     */
    @Override
    public int countTokens(TextModel model, String prompt) {
        ClipTokenizer tokenizer = tokenizers.get(model.tokenizerDir());
        PromptParser parser = parser();
        Map<String, Boolean> texts = new LinkedHashMap<>();
        for (ScheduledPrompt p : parser.schedule(prompt == null ? "" : prompt, COUNT_STEPS)) {
            texts.put(p.text(), true);
        }
        int max = 0;
        EmbeddingVocabulary embeddings = countingVocabulary(tokenizer, model);
        for (String text : texts.keySet()) {
            int count;
            try { // each embedding vector is one token, as A1111 counts
                count = ChunkEncoder.chunk(model, tokenizer, parser, embeddings, text).tokenCount();
            } catch (io.jdiffusion.api.service.InvalidRequestException e) { // an embedding of another width
                count = ChunkEncoder.chunk(model, tokenizer, parser, text).tokenCount();
            }
            max = Math.max(max, count);
        }
        return max;
    }

    /** The embedding sources (shared with {@link XlConditioning}, whose pooled row takes trigger words too). */
    List<EmbeddingSource> embeddingSources() {
        return embeddingSources;
    }

    /** The loaded tokenizers (shared with {@link XlConditioning}). */
    ClipTokenizerCache tokenizers() {
        return tokenizers;
    }

    /** For the live count: a failing lookup counts the prompt without embeddings rather than failing. */
    private EmbeddingVocabulary countingVocabulary(ClipTokenizer tokenizer, TextModel model) {
        try {
            return EmbeddingVocabulary.of(embeddingSources, tokenizer, model);
        } catch (RuntimeException e) {
            return EmbeddingVocabulary.NONE;
        }
    }

    @Deactivate
    void deactivate() {
        tokenizers.close();
    }

    /** No syntax at all: the prompt is its own text, every token weighted 1. */
    static final class PlainText implements PromptParser {
        static final PlainText INSTANCE = new PlainText();

        @Override
        public List<ScheduledPrompt> schedule(String prompt, int steps) {
            return List.of(new ScheduledPrompt(steps, prompt));
        }

        @Override
        public List<WeightedText> weights(String text) {
            return List.of(WeightedText.of(text, 1.0));
        }
    }
}
