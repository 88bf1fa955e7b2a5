package dev.banger.vm;

import java.security.SecureRandom;
import java.util.List;
import java.util.function.Predicate;

/** Memorable VM names for {@code vm run} without {@code --name}: adjective-noun, e.g. "brisk-otter". */
final class NameGenerator {

    private static final List<String> ADJECTIVES = List.of("amber", "bold", "brisk", "calm", "clever", "cosmic",
            "crisp", "dapper", "eager", "fancy", "gentle", "glad", "golden", "happy", "hidden", "jolly", "keen",
            "lively", "lucky", "mellow", "merry", "nimble", "noble", "plucky", "proud", "quick", "quiet", "rapid",
            "rustic", "shiny", "silent", "snappy", "spry", "steady", "sunny", "swift", "tidy", "vivid", "witty",
            "zesty");
    private static final List<String> NOUNS = List.of("badger", "beaver", "bison", "crane", "dingo", "falcon",
            "ferret", "gecko", "heron", "ibis", "jackal", "koala", "lemur", "lynx", "marten", "moose", "newt",
            "ocelot", "otter", "panda", "puffin", "quail", "raven", "salmon", "seal", "shrew", "sloth", "stoat",
            "swan", "tapir", "toucan", "walrus", "weasel", "wombat", "yak", "zebra");
    private static final SecureRandom RANDOM = new SecureRandom();

    private NameGenerator() {
    }

    /** A name {@code taken} rejects no more than a few times; a number is appended when the pairs run dry. */
    static String generate(Predicate<String> taken) {
        for (int attempt = 0; attempt < 50; attempt++) {
            String name = ADJECTIVES.get(RANDOM.nextInt(ADJECTIVES.size())) + "-"
                    + NOUNS.get(RANDOM.nextInt(NOUNS.size())) + (attempt < 20 ? "" : "-" + RANDOM.nextInt(10_000));
            if (!taken.test(name)) {
                return name;
            }
        }
        throw new IllegalStateException("could not find a free VM name; pass --name");
    }
}
