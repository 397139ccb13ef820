package io.jdiffusion.conditioning.a1111;

import io.jdiffusion.api.Plugin;
import io.jdiffusion.api.PromptParser;
import io.jdiffusion.api.ScheduledPrompt;
import io.jdiffusion.api.WeightedText;

import org.osgi.service.component.annotations.Component;

import java.util.List;

/** AUTOMATIC1111's prompt syntax, as its modules/prompt_parser.py parses it. */
@Component(service = PromptParser.class, property = {Plugin.NAME + "=" + PromptParser.DEFAULT,
        Plugin.LABEL + "=AUTOMATIC1111"})
public class A1111PromptParser implements PromptParser {

    @Override
    public List<ScheduledPrompt> schedule(String prompt, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1: " + steps);
        }
        return Schedules.schedule(prompt == null ? "" : prompt, steps);
    }

    @Override
    public List<WeightedText> weights(String text) {
        return Attention.parse(text == null ? "" : text);
    }
}
