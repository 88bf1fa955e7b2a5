package dev.banger.vmm.firecracker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small HTTP/1.1 client over a Unix stream socket: one request per connection (the JDK's HttpClient has no
 * Unix-socket transport). It sends {@code Host}, {@code Accept}, and for a body {@code Content-Type:
 * application/json} with {@code Content-Length}; it reads responses framed by {@code Content-Length}, by the
 * chunked transfer coding, or by the server closing the connection, skips interim 1xx responses, and treats
 * 204 and 304 as bodiless. Firecracker's server always answers {@code Connection: keep-alive} and ignores a
 * request's {@code Connection} header, so the client closes the connection itself once the response is read.
 * Every step shares one deadline; the channel is non-blocking behind a selector and read and written directly
 * (no stream wrappers, which on Java 17 share one lock between reading and writing).
 */
final class UnixHttpClient {

    static final int MAX_HEAD_BYTES = 64 * 1024;
    static final int MAX_BODY_BYTES = 16 * 1024 * 1024;

    private static final Pattern STATUS_LINE = Pattern.compile("HTTP/(\\d)\\.(\\d) (\\d{3})(?: (.*))?");

    private final Path socket;

    UnixHttpClient(Path socket) {
        this.socket = socket;
    }

    Path socket() {
        return socket;
    }

    /**
     * Sends one request and reads its response, all within {@code timeout}.
     *
     * @param target the request target, an absolute path such as {@code /drives/root}
     * @param body a JSON body, or null for none
     * @throws IOException when the socket cannot be reached, the deadline passes, or the answer is not HTTP/1.x;
     *     the message names the socket and the request
     */
    HttpResponse send(String method, String target, byte[] body, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String what = method + " " + target;
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
             Selector selector = Selector.open()) {
            channel.configureBlocking(false);
            Connection c = new Connection(channel, selector, deadline, what, timeout);
            if (!channel.connect(UnixDomainSocketAddress.of(socket))) {
                c.await(SelectionKey.OP_CONNECT, "connecting");
                channel.finishConnect();
            }
            c.write(requestBytes(method, target, body));
            while (true) {
                HttpResponse response = c.readResponse(method);
                if (response.status() >= 200) {
                    return response;
                }
            }
        } catch (IOException e) {
            throw new IOException(what + " on " + socket + " failed: " + e.getMessage(), e);
        }
    }

    static byte[] requestBytes(String method, String target, byte[] body) {
        if (!target.startsWith("/") || target.chars().anyMatch(ch -> ch <= ' ' || ch >= 0x7f)) {
            throw new IllegalArgumentException("request target must be an absolute path of visible ASCII: " + target);
        }
        StringBuilder head = new StringBuilder();
        head.append(method).append(' ').append(target).append(" HTTP/1.1\r\n");
        head.append("Host: localhost\r\n");
        head.append("Accept: application/json\r\n");
        if (body != null) {
            head.append("Content-Type: application/json\r\n");
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("\r\n");
        byte[] h = head.toString().getBytes(StandardCharsets.US_ASCII);
        if (body == null) {
            return h;
        }
        byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
    }

    /** Reading and writing on one connected channel, all against one deadline. */
    private static final class Connection {

        private final SocketChannel channel;
        private final Selector selector;
        private final long deadline;
        private final String what;
        private final Duration timeout;
        private final ByteBuffer in = ByteBuffer.allocate(16 * 1024);
        private boolean eof;

        Connection(SocketChannel channel, Selector selector, long deadline, String what, Duration timeout) {
            this.channel = channel;
            this.selector = selector;
            this.deadline = deadline;
            this.what = what;
            this.timeout = timeout;
            in.flip();
        }

        void write(byte[] bytes) throws IOException {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                if (channel.write(buf) == 0) {
                    await(SelectionKey.OP_WRITE, "sending the request");
                }
            }
        }

        HttpResponse readResponse(String method) throws IOException {
            int[] headBudget = {MAX_HEAD_BYTES};
            String statusLine = readLine(headBudget, "the status line");
            Matcher m = STATUS_LINE.matcher(statusLine);
            if (!m.matches() || !m.group(1).equals("1")) {
                throw new IOException("not an HTTP/1.x response: \"" + abbreviate(statusLine) + "\"");
            }
            int status = Integer.parseInt(m.group(3));
            String reason = m.group(4) == null ? "" : m.group(4).strip();
            Map<String, String> headers = readFields(headBudget);
            if (status < 200) {
                return new HttpResponse(status, reason, headers, new byte[0]);
            }
            byte[] body;
            String transferEncoding = headers.get("transfer-encoding");
            String contentLength = headers.get("content-length");
            if (method.equals("HEAD") || status == 204 || status == 304) {
                body = new byte[0];
            } else if (transferEncoding != null && isChunked(transferEncoding)) {
                body = readChunked(headBudget);
            } else if (transferEncoding != null) {
                throw new IOException("unsupported Transfer-Encoding: " + transferEncoding);
            } else if (contentLength != null) {
                body = readExactly(parseLength(contentLength));
            } else {
                // No framing: the body runs to the end of the connection (HTTP/1.1 section 6.3, rule 7).
                body = readToEof();
            }
            return new HttpResponse(status, reason, headers, body);
        }

        private Map<String, String> readFields(int[] budget) throws IOException {
            Map<String, String> fields = new LinkedHashMap<>();
            while (true) {
                String line = readLine(budget, "the header");
                if (line.isEmpty()) {
                    return fields;
                }
                int colon = line.indexOf(':');
                if (colon <= 0 || line.charAt(0) == ' ' || line.charAt(0) == '\t') {
                    throw new IOException("malformed header line: \"" + abbreviate(line) + "\"");
                }
                String name = line.substring(0, colon).strip().toLowerCase(Locale.ROOT);
                String value = line.substring(colon + 1).strip();
                String previous = fields.put(name, value);
                if (name.equals("content-length") && previous != null && !previous.equals(value)) {
                    throw new IOException("conflicting Content-Length headers: " + previous + " and " + value);
                }
            }
        }

        private static boolean isChunked(String transferEncoding) {
            String[] codings = transferEncoding.toLowerCase(Locale.ROOT).split(",");
            return codings[codings.length - 1].strip().equals("chunked");
        }

        private static int parseLength(String value) throws IOException {
            if (!value.matches("\\d{1,10}")) {
                throw new IOException("bad Content-Length: \"" + abbreviate(value) + "\"");
            }
            long n = Long.parseLong(value);
            if (n > MAX_BODY_BYTES) {
                throw new IOException("response body of " + n + " bytes is over the " + MAX_BODY_BYTES
                        + "-byte limit");
            }
            return (int) n;
        }

        private byte[] readChunked(int[] budget) throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                String sizeLine = readLine(budget, "a chunk size");
                int semi = sizeLine.indexOf(';');
                String hex = (semi < 0 ? sizeLine : sizeLine.substring(0, semi)).strip();
                if (!hex.matches("[0-9A-Fa-f]{1,8}")) {
                    throw new IOException("bad chunk size line: \"" + abbreviate(sizeLine) + "\"");
                }
                long size = Long.parseLong(hex, 16);
                if (size == 0) {
                    readFields(budget); // trailer fields, ignored
                    return out.toByteArray();
                }
                if (out.size() + size > MAX_BODY_BYTES) {
                    throw new IOException("chunked response body is over the " + MAX_BODY_BYTES + "-byte limit");
                }
                out.writeBytes(readExactly((int) size));
                String end = readLine(budget, "the end of a chunk");
                if (!end.isEmpty()) {
                    throw new IOException("chunk of " + size + " bytes is not followed by CRLF");
                }
            }
        }

        private byte[] readExactly(int n) throws IOException {
            byte[] out = new byte[n];
            int filled = 0;
            while (filled < n) {
                if (!in.hasRemaining() && !fill("the body")) {
                    throw new IOException("connection closed after " + filled + " of " + n + " body bytes");
                }
                int take = Math.min(in.remaining(), n - filled);
                in.get(out, filled, take);
                filled += take;
            }
            return out;
        }

        private byte[] readToEof() throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                if (in.hasRemaining()) {
                    if (out.size() + in.remaining() > MAX_BODY_BYTES) {
                        throw new IOException("response body is over the " + MAX_BODY_BYTES + "-byte limit");
                    }
                    out.write(in.array(), in.position(), in.remaining());
                    in.position(in.limit());
                }
                if (!fill("the body")) {
                    return out.toByteArray();
                }
            }
        }

        /** A line ending in LF (a preceding CR is dropped), without the terminator. */
        private String readLine(int[] budget, String what) throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            while (true) {
                if (!in.hasRemaining() && !fill(what)) {
                    throw new IOException("connection closed while reading " + what
                            + (line.size() > 0 ? " (got \"" + abbreviate(line.toString(StandardCharsets.ISO_8859_1))
                            + "\")" : ""));
                }
                byte b = in.get();
                if (--budget[0] < 0) {
                    throw new IOException("response head is over the " + MAX_HEAD_BYTES + "-byte limit");
                }
                if (b == '\n') {
                    byte[] bytes = line.toByteArray();
                    int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                    return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
                }
                line.write(b);
            }
        }

        /** Reads more into {@link #in}; false at end of stream. */
        private boolean fill(String what) throws IOException {
            if (eof) {
                return false;
            }
            in.compact();
            try {
                while (true) {
                    int n = channel.read(in);
                    if (n < 0) {
                        eof = true;
                        return false;
                    }
                    if (n > 0) {
                        return true;
                    }
                    await(SelectionKey.OP_READ, "waiting for " + what);
                }
            } finally {
                in.flip();
            }
        }

        void await(int op, String doing) throws IOException {
            long remainingMs = (deadline - System.nanoTime()) / 1_000_000;
            if (remainingMs <= 0) {
                throw timedOut(doing);
            }
            SelectionKey key = channel.register(selector, op);
            try {
                if (selector.select(remainingMs) == 0) {
                    throw timedOut(doing);
                }
                selector.selectedKeys().clear();
            } finally {
                key.interestOps(0);
            }
        }

        private IOException timedOut(String doing) {
            return new IOException("timed out after " + timeout.toMillis() + " ms " + doing);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
