package dev.banger.cli;

import dev.banger.api.Api;
import dev.banger.api.BangerException;
import dev.banger.api.CopyResult;
import dev.banger.api.ErrorCode;
import dev.banger.api.VmCopyRequest;
import dev.banger.model.Names;
import dev.banger.rpc.Input;
import dev.banger.rpc.RpcClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code vm cp SRC DST}: one side is {@code NAME:/path} in a VM, the other a local path. The CLI packs or unpacks
 * the local side itself ({@link LocalArchive}) and streams the tar archive through the daemon, which relays it to
 * the guest agent. Placement is {@code cp -r}'s: into an existing directory, else as the named path.
 */
final class CopySession {

    private static final Pattern REMOTE = Pattern.compile("([a-z0-9][a-z0-9-]{0,62}):(.*)", Pattern.DOTALL);
    /**
     * The most archive bytes in one data frame to the daemon; also the size of the buffers a copy out reads the
     * daemon's frames into (its relay sends at most as much per frame; a larger frame gets a buffer of its own).
     */
    private static final int CHUNK = 256 * 1024;
    /** Transfers at least this large get a progress line on stderr. */
    static final long PROGRESS_THRESHOLD = 8L << 20;

    /** One side of the copy: a VM path (vm non-null) or a local one. */
    record Location(String vm, String path) {
        boolean remote() {
            return vm != null;
        }

        static Location parse(String arg) {
            Matcher m = REMOTE.matcher(arg);
            if (!m.matches() || !Names.isValid(m.group(1))) {
                return new Location(null, arg);
            }
            if (!m.group(2).startsWith("/")) {
                throw new IllegalArgumentException("the path in VM '" + m.group(1) + "' must be absolute: "
                        + m.group(1) + ":/path (for a local file with ':' in its name, write ./" + arg + ")");
            }
            return new Location(m.group(1), m.group(2));
        }
    }

    private CopySession() {
    }

    static int run(CliContext context, String source, String destination, boolean archive) {
        Location from = Location.parse(source);
        Location to = Location.parse(destination);
        if (from.remote() == to.remote()) {
            throw new IllegalArgumentException(from.remote()
                    ? "copying between two VM paths is not supported; copy to the host first"
                    : "name the VM side as NAME:/path (e.g. banger vm cp ./dir demo:/root/)");
        }
        Progress progress = new Progress(context.err());
        boolean owners = archive || LocalArchive.runningAsRoot();
        CopyResult result = to.remote() ? copyIn(context, from.path(), to, owners, progress)
                : copyOut(context, from, Path.of(to.path()), owners, progress);
        progress.finish(result.files(), result.bytes());
        for (String w : result.warnings()) {
            context.err().println("banger: warning: " + w);
        }
        return BangerCli.EXIT_OK;
    }

    /**
     * Packs {@code localArg} and streams it into the VM once the daemon says the copy is open there (a VM that does
     * not exist or is not running fails before anything is sent).
     *
     * @param owners record the files' owners (else root's, who owns what the guest's user makes)
     */
    private static CopyResult copyIn(CliContext context, String localArg, Location to, boolean owners,
                                     Progress progress) {
        String root = LocalArchive.rootName(localArg);
        Path local = Path.of(root.equals(".") && !localArg.equals("/") && !localArg.equals(".")
                ? localArg.replaceAll("/+\\.?/*$", "") : localArg);
        if (!Files.exists(local, LinkOption.NOFOLLOW_LINKS)) {
            throw BangerException.notFound("no such file or directory: " + localArg);
        }
        List<String> warnings = new ArrayList<>();
        if (progress.redrawn()) { // the total is for the line redrawn on a terminal: a second walk of the tree
            try {
                progress.total(LocalArchive.measure(local));
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read " + localArg + ": " + e.getMessage());
            }
        }
        try (RpcClient.OpenCall<CopyResult> call = context.open(Api.VM_COPY_IN,
                new VmCopyRequest(to.vm(), to.path()))) {
            if (call.nextEvent() != null) {
                InputSender sender = new InputSender(call, progress);
                try (sender) {
                    LocalArchive.pack(local, root, sender, owners, warnings::add);
                } catch (IOException e) {
                    if (!sender.failed()) {
                        throw new IllegalArgumentException("cannot read " + localArg + ": " + e.getMessage());
                    }
                    // The daemon stopped reading: its answer, read below, says why.
                }
            }
            CopyResult r = call.awaitResult(event -> { });
            List<String> all = new ArrayList<>(warnings);
            all.addAll(r.warnings());
            return new CopyResult(r.files(), r.dirs(), r.symlinks(), r.others(), r.bytes(), r.skipped(), all);
        }
    }

    /** @param owners give the files the owners the archive records (else they are the caller's) */
    private static CopyResult copyOut(CliContext context, Location from, Path local, boolean owners,
                                      Progress progress) {
        ChunkPipe pipe = new ChunkPipe();
        LocalArchive.Stats[] stats = new LocalArchive.Stats[1];
        IOException[] failure = new IOException[1];
        Thread unpacker = new Thread(() -> {
            try {
                stats[0] = LocalArchive.unpack(pipe, local, owners);
                pipe.transferTo(OutputStream.nullOutputStream()); // the end-of-archive padding
            } catch (IOException e) {
                failure[0] = e;
            } finally {
                pipe.abandon();
            }
        }, "unpack");
        unpacker.setDaemon(true);
        unpacker.start();
        CopyResult result = null;
        BangerException remote = null;
        RpcClient.DataReceiver received = new RpcClient.DataReceiver() {
            @Override
            public byte[] buffer(int length) {
                return pipe.buffer(length);
            }

            @Override
            public void accept(byte[] buffer, int length) {
                if (!pipe.put(buffer, length)) {
                    throw new CopyAborted();
                }
                progress.add(length);
            }
        };
        try (RpcClient.OpenCall<CopyResult> call = context.open(Api.VM_COPY_OUT,
                new VmCopyRequest(from.vm(), from.path()))) {
            result = call.awaitResult(event -> { }, received);
        } catch (CopyAborted e) {
            // The unpacker gave up; its reason follows. Closing the call stopped the guest's side.
        } catch (BangerException e) {
            remote = e;
        } finally {
            pipe.end();
        }
        try {
            unpacker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BangerException(ErrorCode.CANCELLED, "interrupted");
        }
        if (remote != null) {
            throw remote;
        }
        if (failure[0] != null || result == null) {
            String reason = failure[0] == null ? "the copy from VM '" + from.vm() + "' stopped"
                    : failure[0] instanceof LocalArchive.UnsafeEntryException
                    ? "the archive from VM '" + from.vm() + "' was refused: " + failure[0].getMessage()
                    : "cannot write " + local + ": " + failure[0].getMessage();
            throw new IllegalArgumentException(reason);
        }
        List<String> warnings = new ArrayList<>(result.warnings());
        warnings.addAll(stats[0].warnings());
        return new CopyResult(result.files(), result.dirs(), result.symlinks(), result.others(), result.bytes(),
                result.skipped() + stats[0].skipped(), warnings);
    }

    /** Thrown out of the event loop when the local side gave up: closing the call stops the copy in the guest. */
    private static final class CopyAborted extends RuntimeException {
        CopyAborted() {
            super(null, null, false, false);
        }
    }

    /**
     * An OutputStream whose bytes go to the daemon as data frames; closing sends end-of-input. When the daemon
     * stops reading (it refused the copy), writes fail with an IOException and {@link #failed()} says so.
     */
    private static final class InputSender extends OutputStream {
        private final RpcClient.OpenCall<CopyResult> call;
        private final Progress progress;
        private final byte[] buf = new byte[CHUNK];
        private int used;
        private boolean closed;
        private boolean failed;

        InputSender(RpcClient.OpenCall<CopyResult> call, Progress progress) {
            this.call = call;
            this.progress = progress;
        }

        boolean failed() {
            return failed;
        }

        @Override
        public void write(int b) throws IOException {
            if (used == buf.length) {
                flush();
            }
            buf[used++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                if (used == buf.length) {
                    flush();
                }
                int n = Math.min(len, buf.length - used);
                System.arraycopy(b, off, buf, used, n);
                used += n;
                off += n;
                len -= n;
            }
        }

        @Override
        public void flush() throws IOException {
            if (used > 0) {
                send(() -> call.sendData(buf, 0, used));
                progress.add(used);
                used = 0;
            }
        }

        @Override
        public void close() throws IOException {
            if (!closed) {
                closed = true;
                flush();
                send(() -> call.send(Input.eof()));
            }
        }

        private void send(Runnable sending) throws IOException {
            if (failed) {
                throw new IOException("the daemon stopped reading");
            }
            try {
                sending.run();
            } catch (BangerException e) {
                failed = true;
                throw new IOException(e.getMessage(), e);
            }
        }
    }

    /**
     * Data frames from the event loop to the unpacking thread, a bounded number at a time (the rest waits upstream).
     * Frames are read straight into the pipe's buffers, which come back for later frames once unpacked: a copy out
     * touches a few MiB of memory instead of a new array per frame (a first touch of fresh memory costs more than
     * the copy into it, several times more on a host that is itself a VM).
     */
    private static final class ChunkPipe extends InputStream {
        private record Chunk(byte[] buffer, int length) {
        }

        private static final Chunk END = new Chunk(new byte[0], 0);
        private final BlockingQueue<Chunk> chunks = new ArrayBlockingQueue<>(64);
        private final Queue<byte[]> free = new ConcurrentLinkedQueue<>();
        private Chunk head;
        private int offset;
        private volatile boolean abandoned;

        /** A buffer for a frame of {@code length} bytes: an unpacked one when the frame fits. */
        byte[] buffer(int length) {
            byte[] recycled = length <= CHUNK ? free.poll() : null;
            return recycled != null ? recycled : new byte[Math.max(length, CHUNK)];
        }

        /** False once the reader has given up (the data is then dropped). */
        boolean put(byte[] buffer, int length) {
            return put(new Chunk(buffer, length));
        }

        private boolean put(Chunk chunk) {
            try {
                while (!abandoned) {
                    if (chunks.offer(chunk, 100, TimeUnit.MILLISECONDS)) {
                        return true;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return false;
        }

        void end() {
            put(END);
        }

        void abandon() {
            abandoned = true;
            chunks.clear();
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            while (head == null || offset == head.length()) {
                if (head == END) {
                    return -1;
                }
                if (head != null && head.buffer().length == CHUNK) {
                    free.offer(head.buffer());
                }
                try {
                    head = chunks.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while unpacking");
                }
                offset = 0;
                if (head == END) {
                    return -1;
                }
            }
            int n = Math.min(len, head.length() - offset);
            System.arraycopy(head.buffer(), offset, b, off, n);
            offset += n;
            return n;
        }
    }

    /**
     * A progress line on stderr for transfers of {@link #PROGRESS_THRESHOLD} and more: redrawn in place on a
     * terminal, a closing summary either way.
     */
    static final class Progress {
        private final PrintWriter err;
        private final boolean terminal;
        private final long start = System.nanoTime();
        private long total = -1;
        private long done;
        private long lastDraw;
        private boolean drawn;

        Progress(PrintWriter err) {
            this(err, System.console() != null);
        }

        Progress(PrintWriter err, boolean terminal) {
            this.err = err;
            this.terminal = terminal;
        }

        /** Whether a progress line is redrawn as the copy goes (on a terminal), which can show a total. */
        boolean redrawn() {
            return terminal;
        }

        void total(long bytes) {
            total = bytes;
        }

        synchronized void add(long bytes) {
            done += bytes;
            long now = System.nanoTime();
            if (terminal && done >= PROGRESS_THRESHOLD && now - lastDraw > TimeUnit.MILLISECONDS.toNanos(200)) {
                lastDraw = now;
                err.print("\r" + line() + "   ");
                err.flush();
                drawn = true;
            }
        }

        synchronized void finish(long files, long contentBytes) {
            if (done < PROGRESS_THRESHOLD && contentBytes < PROGRESS_THRESHOLD) {
                return;
            }
            double seconds = Math.max(1e-3, (System.nanoTime() - start) / 1e9);
            err.println((drawn ? "\r" : "") + String.format(Locale.ROOT, "copied %d files, %s in %.1fs (%s/s)",
                    files, mib(contentBytes), seconds, mib((long) (done / seconds))));
            err.flush();
        }

        String line() {
            double seconds = Math.max(1e-3, (System.nanoTime() - start) / 1e9);
            String rate = mib((long) (done / seconds)) + "/s";
            if (total > 0) {
                long pct = Math.min(100, done * 100 / total);
                return String.format(Locale.ROOT, "copying %s / %s (%d%%) %s", mib(done), mib(total), pct, rate);
            }
            return "copying " + mib(done) + " " + rate;
        }

        private static String mib(long bytes) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
        }
    }
}
