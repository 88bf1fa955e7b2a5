package dev.banger.vmm.firecracker;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP response as {@link UnixHttpClient} read it.
 *
 * @param status the status code
 * @param reason the reason phrase, possibly empty (Firecracker's server sends none)
 * @param headers header fields by lower-case name; a repeated field keeps its last value
 * @param body the decoded body (chunked transfer coding removed), empty when there is none
 */
record HttpResponse(int status, String reason, Map<String, String> headers, byte[] body) {

    HttpResponse {
        headers = Map.copyOf(headers);
    }

    boolean successful() {
        return status >= 200 && status < 300;
    }

    String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }
}
