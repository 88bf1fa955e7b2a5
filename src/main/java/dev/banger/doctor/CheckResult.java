package dev.banger.doctor;

/**
 * One line of {@code banger doctor}.
 *
 * @param check short name ("kvm", "qemu", ...)
 * @param status PASS, WARN or FAIL
 * @param detail what was found
 * @param fix what to do about a WARN or FAIL, or null
 * @param required whether banger cannot work without it (a FAIL of a required check fails the doctor)
 */
public record CheckResult(String check, Status status, String detail, String fix, boolean required) {

    public enum Status { PASS, WARN, FAIL }

    static CheckResult pass(String check, String detail) {
        return new CheckResult(check, Status.PASS, detail, null, false);
    }

    static CheckResult warn(String check, String detail, String fix) {
        return new CheckResult(check, Status.WARN, detail, fix, false);
    }

    static CheckResult fail(String check, String detail, String fix, boolean required) {
        return new CheckResult(check, Status.FAIL, detail, fix, required);
    }
}
