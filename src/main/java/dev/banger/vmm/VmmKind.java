package dev.banger.vmm;

/** The virtual machine monitors banger drives. */
public enum VmmKind { QEMU, FIRECRACKER }
