package dev.banger.rpc;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/** What a fuzz run must not produce: log events with an exception or at ERROR, uncaught throwables, threads left. */
final class RpcFuzzLog {

    private RpcFuzzLog() {
    }

    /**
     * From now on, every log event at ERROR or carrying a throwable, and every uncaught throwable, is added to the
     * returned list (one line each).
     */
    static List<String> capture() {
        List<String> seen = new CopyOnWriteArrayList<>();
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent event) {
                if (event.getThrowableProxy() != null || event.getLevel().isGreaterOrEqual(Level.ERROR)) {
                    seen.add(event.getLevel() + " " + event.getLoggerName() + ": " + event.getFormattedMessage()
                            + (event.getThrowableProxy() == null ? ""
                            : " " + event.getThrowableProxy().getClassName() + ": "
                            + event.getThrowableProxy().getMessage()));
                }
            }
        };
        appender.setContext(context);
        appender.start();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(appender);
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> seen.add("uncaught in " + t.getName() + ": " + e));
        return seen;
    }

    /** Live threads of RPC servers: connection threads and their input readers. */
    static int serverThreads() {
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("rpc-conn-")).count();
    }

    /** Waits up to {@code timeoutMs} for the server threads to drop to {@code baseline}; returns the last count. */
    static int awaitServerThreads(int baseline, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        int n = serverThreads();
        while (n > baseline && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
            n = serverThreads();
        }
        return n;
    }

    /**
     * The heap in use after full collections: the least of a few {@code System.gc()} rounds (one round may leave
     * garbage a concurrent collector had not reached), so what it measures is what the JVM still holds on to.
     */
    static long usedHeapAfterGc() throws InterruptedException {
        java.lang.management.MemoryMXBean memory = java.lang.management.ManagementFactory.getMemoryMXBean();
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(50);
            least = Math.min(least, memory.getHeapMemoryUsage().getUsed());
        }
        return least;
    }
}
