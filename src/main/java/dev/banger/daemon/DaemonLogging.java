package dev.banger.daemon;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.util.FileSize;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Points logback at the daemon's log file in the state dir (size-capped, rolled daily). */
final class DaemonLogging {

    /** What the daemon writes to its stdout and stderr in one run, at most ({@code bangerd.out}). */
    static final long CONSOLE_LIMIT_BYTES = 1024 * 1024;

    private DaemonLogging() {
    }

    static void toFile(Path logFile) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();

        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{0} - %msg%n");
        encoder.start();

        RollingFileAppender<ILoggingEvent> appender = new RollingFileAppender<>();
        appender.setContext(context);
        appender.setName("file");
        appender.setFile(logFile.toString());
        SizeAndTimeBasedRollingPolicy<ILoggingEvent> policy = new SizeAndTimeBasedRollingPolicy<>();
        policy.setContext(context);
        policy.setParent(appender);
        policy.setFileNamePattern(logFile + ".%d{yyyy-MM-dd}.%i.gz");
        policy.setMaxFileSize(FileSize.valueOf("20MB"));
        policy.setMaxHistory(7);
        policy.setTotalSizeCap(FileSize.valueOf("200MB"));
        policy.start();
        appender.setRollingPolicy(policy);
        appender.setEncoder(encoder);
        appender.start();

        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(appender);
    }

    /**
     * Caps what this run writes to stdout and stderr at {@link #CONSOLE_LIMIT_BYTES} (a detached daemon's are
     * {@code bangerd.out}, which nothing rotates but the CLI at the next start), and sends an exception no code
     * caught to the log instead of the JVM's default, a stack trace on stderr.
     */
    static void captureConsole(Path logFile) {
        String note = "bangerd: further console output dropped (over " + CONSOLE_LIMIT_BYTES + " bytes); see "
                + logFile;
        System.setOut(new PrintStream(new CappedOutputStream(new FileOutputStream(FileDescriptor.out),
                CONSOLE_LIMIT_BYTES, note), true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new CappedOutputStream(new FileOutputStream(FileDescriptor.err),
                CONSOLE_LIMIT_BYTES, note), true, StandardCharsets.UTF_8));
        Logger log = LoggerFactory.getLogger("uncaught");
        Thread.setDefaultUncaughtExceptionHandler((thread, e) ->
                log.error("uncaught exception in thread {}", thread.getName(), e));
    }
}
