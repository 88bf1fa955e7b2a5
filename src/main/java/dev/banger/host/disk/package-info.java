/**
 * Copy-on-write root disks: one {@link dev.banger.host.disk.RootDiskStrategy} per way of giving a VM a private,
 * writable view of a read-only image, and a {@link dev.banger.host.disk.RootDiskChooser} that picks the first
 * applicable one by priority (the shape of testcontainers' client provider strategies).
 *
 * <ul>
 *   <li>{@code qcow2-overlay}: a qcow2 file backed by the image; QEMU only; no host state beyond the file.</li>
 *   <li>{@code dm-snapshot}: a device-mapper snapshot over a read-only loop of the image and a loop of a sparse
 *       COW file; raw block device, so Firecracker can attach it; needs device-mapper and root.</li>
 *   <li>{@code reflink-or-copy}: a copy of the image (instant on btrfs/XFS, a full copy elsewhere); any host.</li>
 * </ul>
 *
 * <p>Each strategy owns one durable file in the VM dir (the overlay, the COW file or the copy; removed with the VM
 * dir) and may hold transient host resources while the VM runs (loop devices, a dm device), described by
 * {@link dev.banger.host.disk.RootDiskHandles} and released by {@code teardown}. The package lives under
 * {@code host} because loops and device-mapper are host resources with nothing VM-lifecycle about them: it depends
 * on {@code host}, {@code model} and {@code vmm.DiskSpec} only, so image promotion can use it as well as VMs.
 */
package dev.banger.host.disk;
