package dev.banger.image.registry;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.util.List;

/**
 * One kind of registry request: where it goes, what it accepts, and what a successful answer means. The
 * {@link RegistryClient} runs any of them, adding authentication, redirects and error handling; a new endpoint is
 * a new small class.
 *
 * @param <T> what a successful call yields
 */
interface RegistryCall<T> {

    /** The path under the registry's base URI, starting with {@code /v2/}. */
    String path();

    /** The media types for the Accept header, or empty for none. */
    List<String> accept();

    /**
     * Turns a 2xx answer into the result. Owns {@code response.body()}: it must close the stream, or hand it to
     * the caller to close.
     */
    T handle(HttpResponse<InputStream> response) throws IOException;

    /** What the call does, for errors: "fetch manifest latest of docker.io/library/debian". */
    String description();
}
