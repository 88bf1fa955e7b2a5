package dev.banger.store;

/** A write broke a UNIQUE or FOREIGN KEY constraint; services turn it into already_exists or conflict. */
public final class ConstraintViolation extends RuntimeException {

    public enum Kind { UNIQUE, FOREIGN_KEY }

    private final Kind kind;

    ConstraintViolation(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** For UNIQUE violations, the column SQLite named ("vms.name"), else null. */
    public String column() {
        String marker = "UNIQUE constraint failed: ";
        int at = getMessage().indexOf(marker);
        if (at < 0) {
            return null;
        }
        String rest = getMessage().substring(at + marker.length());
        int end = rest.indexOf(')');
        return (end < 0 ? rest : rest.substring(0, end)).trim();
    }
}
