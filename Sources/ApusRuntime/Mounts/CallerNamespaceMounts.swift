import CApusShim
import Glibc

/// A container without a mount namespace of its own still gets its
/// `mounts` (and a read-only root), in the caller's mount namespace, as runc
/// does. Unlike runc, Apus removes them again: they all hang below one
/// private bind of the rootfs on itself (Rootfs.prepare), so one lazy
/// detach of that bind takes them all. The bind is known by its mount ID —
/// recorded in state.json after create, and for a create that dies half-way
/// the intent holds the ID that was at the rootfs before — so a detach only
/// ever hits the mount Apus made, never one that replaced it since.
enum CallerNamespaceMounts {
    /// The ID of the topmost mount at `path`, nil if it cannot be read.
    static func mountID(_ path: String) -> Int64? {
        let id = apus_mount_id(path)
        return id >= 0 ? id : nil
    }

    /// Detaches the rootfs bind `id` if it is still the top mount at `rootfs`.
    static func detach(rootfs: String, bind id: Int64) throws {
        guard mountID(rootfs) == id else { return }
        try detach(rootfs)
    }

    /// After a create that died: the top mount at `rootfs` is its bind when
    /// it is no longer the mount the create found there (`before`).
    static func detach(rootfs: String, unlessStill before: Int64) throws {
        guard let now = mountID(rootfs), now != before else { return }
        try detach(rootfs)
    }

    private static func detach(_ rootfs: String) throws {
        try check(umount2(rootfs, Int32(MNT_DETACH)), "removing the container's mounts", "umount2(\(rootfs), MNT_DETACH)")
    }
}
