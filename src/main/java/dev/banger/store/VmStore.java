package dev.banger.store;

import dev.banger.model.Vm;
import dev.banger.model.VmState;
import dev.banger.model.VmmKind;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The {@code vms} table: durable VM records. */
public final class VmStore {

    private static final String COLUMNS = "id, name, state, vmm, image_name, kernel_name, cpus, memory_mib, "
            + "disk_mib, guest_ip, mac, vsock_cid, vm_dir, control_socket, agent_socket, log_path, dns_name, "
            + "root_disk_path, work_disk_path, last_error, created_at, updated_at";

    private final Database db;

    public VmStore(Database db) {
        this.db = db;
    }

    /** Inserts a new record. @throws ConstraintViolation when the name (or an address) is taken */
    public void insert(Vm vm) {
        db.transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO vms (" + COLUMNS + ") VALUES "
                    + "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
                bind(ps, vm);
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Replaces every mutable column of the record with {@code vm}'s values. */
    public void update(Vm vm) {
        db.transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE vms SET state=?, image_name=?, kernel_name=?, "
                    + "cpus=?, memory_mib=?, disk_mib=?, guest_ip=?, mac=?, vsock_cid=?, last_error=?, updated_at=? "
                    + "WHERE id=?")) {
                ps.setString(1, vm.state().wireName());
                ps.setString(2, vm.imageName());
                ps.setString(3, vm.kernelName());
                ps.setInt(4, vm.cpus());
                ps.setInt(5, vm.memoryMib());
                ps.setLong(6, vm.diskMib());
                ps.setString(7, vm.guestIp());
                ps.setString(8, vm.mac());
                setCid(ps, 9, vm.vsockCid());
                ps.setString(10, vm.lastError());
                ps.setString(11, vm.updatedAt().toString());
                ps.setString(12, vm.id());
                if (ps.executeUpdate() != 1) {
                    throw new StoreException("VM " + vm.name() + " (" + vm.id() + ") vanished from the store");
                }
            }
            return null;
        });
    }

    public Optional<Vm> findById(String id) {
        return findOne("id", id);
    }

    public Optional<Vm> findByName(String name) {
        return findOne("name", name);
    }

    /** @param column a unique column, one of ours (never user input) */
    private Optional<Vm> findOne(String column, String value) {
        return db.query(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM vms WHERE " + column
                    + " = ?")) {
                ps.setString(1, value);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(read(rs)) : Optional.empty();
                }
            }
        });
    }

    public List<Vm> list() {
        return db.query(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM vms ORDER BY name");
                 ResultSet rs = ps.executeQuery()) {
                List<Vm> vms = new ArrayList<>();
                while (rs.next()) {
                    vms.add(read(rs));
                }
                return vms;
            }
        });
    }

    /** Guest addresses held by VMs (freed when a VM is deleted). */
    public java.util.Set<String> usedIps() {
        return db.query(c -> {
            java.util.Set<String> ips = new java.util.HashSet<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT guest_ip FROM vms WHERE guest_ip IS NOT NULL");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ips.add(rs.getString(1));
                }
            }
            return ips;
        });
    }

    /** vsock CIDs held by VMs. */
    public java.util.Set<Long> usedCids() {
        return db.query(c -> {
            java.util.Set<Long> cids = new java.util.HashSet<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT vsock_cid FROM vms WHERE vsock_cid IS NOT NULL");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    cids.add(rs.getLong(1));
                }
            }
            return cids;
        });
    }

    /** Names of the VMs that boot the given image. */
    public List<String> namesUsingImage(String imageName) {
        return namesWhere("image_name", imageName);
    }

    /** Names of the VMs that boot the given kernel. */
    public List<String> namesUsingKernel(String kernelName) {
        return namesWhere("kernel_name", kernelName);
    }

    private List<String> namesWhere(String column, String value) {
        return db.query(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT name FROM vms WHERE " + column + " = ? ORDER BY name")) {
                ps.setString(1, value);
                try (ResultSet rs = ps.executeQuery()) {
                    List<String> names = new ArrayList<>();
                    while (rs.next()) {
                        names.add(rs.getString(1));
                    }
                    return names;
                }
            }
        });
    }

    /** Removes the record; returns false when it was already gone. */
    public boolean delete(String id) {
        return db.transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM vms WHERE id = ?")) {
                ps.setString(1, id);
                return ps.executeUpdate() == 1;
            }
        });
    }

    private static void bind(PreparedStatement ps, Vm vm) throws SQLException {
        ps.setString(1, vm.id());
        ps.setString(2, vm.name());
        ps.setString(3, vm.state().wireName());
        ps.setString(4, vm.vmm().wireName());
        ps.setString(5, vm.imageName());
        ps.setString(6, vm.kernelName());
        ps.setInt(7, vm.cpus());
        ps.setInt(8, vm.memoryMib());
        ps.setLong(9, vm.diskMib());
        ps.setString(10, vm.guestIp());
        ps.setString(11, vm.mac());
        setCid(ps, 12, vm.vsockCid());
        ps.setString(13, vm.vmDir().toString());
        ps.setString(14, vm.controlSocket().toString());
        ps.setString(15, vm.agentSocket().toString());
        ps.setString(16, vm.logPath().toString());
        ps.setString(17, vm.dnsName());
        ps.setString(18, vm.rootDiskPath().toString());
        ps.setString(19, vm.workDiskPath().toString());
        ps.setString(20, vm.lastError());
        ps.setString(21, vm.createdAt().toString());
        ps.setString(22, vm.updatedAt().toString());
    }

    private static void setCid(PreparedStatement ps, int index, long cid) throws SQLException {
        if (cid == 0) {
            ps.setNull(index, Types.INTEGER);
        } else {
            ps.setLong(index, cid);
        }
    }

    private static Vm read(ResultSet rs) throws SQLException {
        return new Vm(
                rs.getString("id"),
                rs.getString("name"),
                VmState.fromWire(rs.getString("state")),
                VmmKind.fromWire(rs.getString("vmm")),
                rs.getString("image_name"),
                rs.getString("kernel_name"),
                rs.getInt("cpus"),
                rs.getInt("memory_mib"),
                rs.getLong("disk_mib"),
                rs.getString("guest_ip"),
                rs.getString("mac"),
                rs.getLong("vsock_cid"),
                Path.of(rs.getString("vm_dir")),
                Path.of(rs.getString("control_socket")),
                Path.of(rs.getString("agent_socket")),
                Path.of(rs.getString("log_path")),
                rs.getString("dns_name"),
                Path.of(rs.getString("root_disk_path")),
                Path.of(rs.getString("work_disk_path")),
                rs.getString("last_error"),
                Instant.parse(rs.getString("created_at")),
                Instant.parse(rs.getString("updated_at")));
    }
}
