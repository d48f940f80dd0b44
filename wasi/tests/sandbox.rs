//! Capability security: a guest given one directory cannot reach anything outside it, by
//! absolute paths, by `..`, or by symlinks (its own or the host's), and every attempt is
//! refused with `notcapable` without touching the host file it aimed at. Races between the
//! guest and other host processes are out of scope.

mod common;

use common::{Guest, INPUT, INPUT2, OUTPUT, errno, scratch};
use kestrel::Val;
use kestrel_wasi::WasiCtxBuilder;
use std::path::Path;

/// The first preopened directory.
const ROOT: u32 = 3;

const OFLAGS_CREAT: i32 = 1;
const OFLAGS_DIRECTORY: i32 = 2;
const OFLAGS_TRUNC: i32 = 8;
const LOOKUP_FOLLOW: i32 = 1;
const RIGHTS_ALL: u64 = (1 << 30) - 1;
/// Everything but the rights to write (`fd_write`, `fd_allocate`, `fd_filestat_set_size`),
/// which a directory cannot be opened with.
const RIGHTS_DIR: u64 = RIGHTS_ALL & !(1 << 6 | 1 << 8 | 1 << 22);

fn guest(root: &Path) -> Guest {
    Guest::new(
        WasiCtxBuilder::new()
            .preopened_dir(root.join("sandbox"), "/")
            .unwrap(),
    )
}

/// The host file outside the sandbox is as the test made it.
#[track_caller]
fn assert_untouched(root: &Path) {
    assert_eq!(
        std::fs::read_to_string(root.join("outside.txt")).unwrap(),
        "host secret"
    );
}

#[test]
fn absolute_paths_are_refused() {
    let root = scratch("absolute");
    let mut guest = guest(&root);
    let outside = root.join("outside.txt");
    for path in [
        outside.to_str().unwrap().as_bytes(),
        b"/etc/passwd",
        b"/",
        b"/tmp",
    ] {
        let (errno, _) = guest.open(ROOT, LOOKUP_FOLLOW, path, 0, RIGHTS_ALL, 0);
        assert_eq!(
            errno,
            errno::NOTCAPABLE,
            "{}",
            String::from_utf8_lossy(path)
        );
    }
    let (errno, _) = guest.open(
        ROOT,
        0,
        outside.to_str().unwrap().as_bytes(),
        OFLAGS_CREAT | OFLAGS_TRUNC,
        RIGHTS_ALL,
        0,
    );
    assert_eq!(errno, errno::NOTCAPABLE);
    assert_untouched(&root);
}

#[test]
fn dotdot_cannot_climb_out() {
    let root = scratch("dotdot");
    std::fs::create_dir(root.join("sandbox/sub")).unwrap();
    let mut guest = guest(&root);
    for path in [
        &b"../outside.txt"[..],
        b"sub/../../outside.txt",
        b"./sub/./../../outside.txt",
        b"..",
    ] {
        let (errno, _) = guest.open(ROOT, LOOKUP_FOLLOW, path, 0, RIGHTS_ALL, 0);
        assert_eq!(
            errno,
            errno::NOTCAPABLE,
            "{}",
            String::from_utf8_lossy(path)
        );
    }
    // `..` that stays inside is fine.
    let (errno, fd) = guest.open(ROOT, 0, b"sub/..", OFLAGS_DIRECTORY, RIGHTS_DIR, 0);
    assert_eq!(errno, errno::SUCCESS);
    assert!(fd > ROOT);

    // Every kind of path call refuses the escape, and changes nothing outside.
    assert_eq!(
        guest.path_call("path_unlink_file", ROOT, b"../outside.txt"),
        errno::NOTCAPABLE
    );
    assert_eq!(
        guest.path_call("path_create_directory", ROOT, b"../made-by-guest"),
        errno::NOTCAPABLE
    );
    assert!(!root.join("made-by-guest").exists());
    assert_eq!(
        guest.path_call("path_remove_directory", ROOT, b"../sandbox"),
        errno::NOTCAPABLE
    );
    let (old, old_len) = guest.bytes_at(INPUT, b"../outside.txt");
    let (new, new_len) = guest.bytes_at(INPUT2, b"stolen.txt");
    let args = [
        Val::I32(ROOT as i32),
        old,
        old_len,
        Val::I32(ROOT as i32),
        new,
        new_len,
    ];
    assert_eq!(guest.call("path_rename", &args), errno::NOTCAPABLE);
    let link_args = [
        Val::I32(ROOT as i32),
        Val::I32(0),
        old,
        old_len,
        Val::I32(ROOT as i32),
        new,
        new_len,
    ];
    assert_eq!(guest.call("path_link", &link_args), errno::NOTCAPABLE);
    assert!(!root.join("sandbox/stolen.txt").exists());
    let (path, len) = guest.bytes_at(INPUT, b"../outside.txt");
    let stat = [
        Val::I32(ROOT as i32),
        Val::I32(LOOKUP_FOLLOW),
        path,
        len,
        Val::I32(OUTPUT as i32),
    ];
    assert_eq!(guest.call("path_filestat_get", &stat), errno::NOTCAPABLE);
    assert_untouched(&root);
}

#[test]
fn host_symlinks_pointing_outside_are_not_followed() {
    let root = scratch("symlinks");
    let sandbox = root.join("sandbox");
    std::os::unix::fs::symlink("../outside.txt", sandbox.join("relative-escape")).unwrap();
    std::os::unix::fs::symlink(root.join("outside.txt"), sandbox.join("absolute-escape")).unwrap();
    std::os::unix::fs::symlink("/etc", sandbox.join("etc")).unwrap();
    std::os::unix::fs::symlink("..", sandbox.join("parent")).unwrap();
    let mut guest = guest(&root);
    for path in [
        &b"relative-escape"[..],
        b"absolute-escape",
        b"etc/passwd",
        b"etc",
        b"parent/outside.txt",
    ] {
        let (errno, _) = guest.open(ROOT, LOOKUP_FOLLOW, path, 0, RIGHTS_ALL, 0);
        assert_eq!(
            errno,
            errno::NOTCAPABLE,
            "{}",
            String::from_utf8_lossy(path)
        );
    }
    // Writing through the link would clobber the host file.
    let (errno, _) = guest.open(
        ROOT,
        LOOKUP_FOLLOW,
        b"relative-escape",
        OFLAGS_CREAT | OFLAGS_TRUNC,
        RIGHTS_ALL,
        0,
    );
    assert_eq!(errno, errno::NOTCAPABLE);
    assert_untouched(&root);

    // Without following, the link itself is what the guest sees: `loop` on open, its own
    // metadata on stat, and removing it removes the link only.
    let (errno, _) = guest.open(ROOT, 0, b"relative-escape", 0, RIGHTS_ALL, 0);
    assert_eq!(errno, errno::LOOP);
    assert_eq!(
        guest.path_call("path_unlink_file", ROOT, b"relative-escape"),
        errno::SUCCESS
    );
    assert!(!sandbox.join("relative-escape").exists());
    assert_untouched(&root);

    // The target of a link that points outside is not revealed.
    let (path, len) = guest.bytes_at(INPUT, b"absolute-escape");
    let readlink = [
        Val::I32(ROOT as i32),
        path,
        len,
        Val::I32(INPUT2 as i32),
        Val::I32(256),
        Val::I32(OUTPUT as i32),
    ];
    assert_eq!(guest.call("path_readlink", &readlink), errno::NOTCAPABLE);
}

#[test]
fn symlink_loops_end_in_loop() {
    let root = scratch("loops");
    let sandbox = root.join("sandbox");
    std::os::unix::fs::symlink("b", sandbox.join("a")).unwrap();
    std::os::unix::fs::symlink("a", sandbox.join("b")).unwrap();
    std::os::unix::fs::symlink("self", sandbox.join("self")).unwrap();
    let mut guest = guest(&root);
    for path in [&b"a"[..], b"b", b"self", b"self/x"] {
        let (errno, _) = guest.open(ROOT, LOOKUP_FOLLOW, path, 0, RIGHTS_ALL, 0);
        assert_eq!(errno, errno::LOOP, "{}", String::from_utf8_lossy(path));
    }
}

#[test]
fn guest_symlinks_cannot_escape() {
    let root = scratch("guest-symlinks");
    let mut guest = guest(&root);
    let symlink = |guest: &mut Guest, target: &[u8], link: &[u8]| {
        let (target, target_len) = guest.bytes_at(INPUT, target);
        let (link, link_len) = guest.bytes_at(INPUT2, link);
        guest.call(
            "path_symlink",
            &[target, target_len, Val::I32(ROOT as i32), link, link_len],
        )
    };
    // An absolute target is refused outright.
    assert_eq!(
        symlink(&mut guest, b"/etc/passwd", b"abs"),
        errno::NOTCAPABLE
    );
    assert!(std::fs::symlink_metadata(root.join("sandbox/abs")).is_err());
    // A relative one may be made (it is only text), but never followed out.
    assert_eq!(
        symlink(&mut guest, b"../outside.txt", b"rel"),
        errno::SUCCESS
    );
    let (errno, _) = guest.open(
        ROOT,
        LOOKUP_FOLLOW,
        b"rel",
        OFLAGS_CREAT | OFLAGS_TRUNC,
        RIGHTS_ALL,
        0,
    );
    assert_eq!(errno, errno::NOTCAPABLE);
    // A link to a directory inside, then `..` out of it: still refused.
    std::fs::create_dir(root.join("sandbox/dir")).unwrap();
    assert_eq!(symlink(&mut guest, b"dir", b"dirlink"), errno::SUCCESS);
    let (errno, _) = guest.open(
        ROOT,
        LOOKUP_FOLLOW,
        b"dirlink/../../outside.txt",
        0,
        RIGHTS_ALL,
        0,
    );
    assert_eq!(errno, errno::NOTCAPABLE);
    assert_untouched(&root);
}

#[test]
fn descriptors_opened_inside_stay_inside() {
    let root = scratch("nested");
    std::fs::create_dir_all(root.join("sandbox/a/b")).unwrap();
    let mut guest = guest(&root);
    let (errno, dir) = guest.open(ROOT, 0, b"a", OFLAGS_DIRECTORY, RIGHTS_DIR, 0);
    assert_eq!(errno, errno::SUCCESS);
    // `..` that stays below the descriptor is fine...
    let (errno, _) = guest.open(dir, 0, b"b/..", OFLAGS_DIRECTORY, RIGHTS_DIR, 0);
    assert_eq!(errno, errno::SUCCESS);
    // ...but a descriptor is a sandbox of its own: it cannot climb above itself, even
    // into the directory it was opened from.
    let (errno, _) = guest.open(dir, 0, b"..", OFLAGS_DIRECTORY, RIGHTS_DIR, 0);
    assert_eq!(errno, errno::NOTCAPABLE);
    let (errno, _) = guest.open(dir, 0, b"b/../../a", OFLAGS_DIRECTORY, RIGHTS_DIR, 0);
    assert_eq!(errno, errno::NOTCAPABLE);
    let (errno, _) = guest.open(dir, 0, b"../../outside.txt", 0, RIGHTS_ALL, 0);
    assert_eq!(errno, errno::NOTCAPABLE);
    assert_untouched(&root);
}

#[test]
fn rights_limit_what_descriptors_do() {
    let root = scratch("rights");
    std::fs::write(root.join("sandbox/file.txt"), "data").unwrap();
    let mut guest = guest(&root);
    const FD_READ: u64 = 1 << 1;
    const FD_WRITE: u64 = 1 << 6;
    const PATH_OPEN: u64 = 1 << 13;
    // Read-only: writing is `notcapable`, reading works.
    let (errno, fd) = guest.open(ROOT, 0, b"file.txt", 0, FD_READ, 0);
    assert_eq!(errno, errno::SUCCESS);
    assert_eq!(guest.write_fd(fd, b"x").0, errno::NOTCAPABLE);
    assert_eq!(guest.read_fd(fd, 16), (errno::SUCCESS, b"data".to_vec()));
    // Rights can be dropped, never regained.
    let set_rights = |guest: &mut Guest, fd: u32, rights: u64| {
        guest.call(
            "fd_fdstat_set_rights",
            &[Val::I32(fd as i32), Val::I64(rights as i64), Val::I64(0)],
        )
    };
    assert_eq!(set_rights(&mut guest, fd, 0), errno::SUCCESS);
    assert_eq!(guest.read_fd(fd, 16).0, errno::NOTCAPABLE);
    assert_eq!(set_rights(&mut guest, fd, FD_READ), errno::NOTCAPABLE);

    // A directory that may only open passes on no right to create.
    let (errno, dir) = guest.open(ROOT, 0, b".", OFLAGS_DIRECTORY, RIGHTS_DIR, 0);
    assert_eq!(errno, errno::SUCCESS);
    assert_eq!(
        guest.call(
            "fd_fdstat_set_rights",
            &[
                Val::I32(dir as i32),
                Val::I64(PATH_OPEN as i64),
                Val::I64(FD_READ as i64),
            ],
        ),
        errno::SUCCESS
    );
    let (errno, _) = guest.open(dir, 0, b"new.txt", OFLAGS_CREAT, FD_WRITE, 0);
    assert_eq!(errno, errno::NOTCAPABLE);
    assert!(!root.join("sandbox/new.txt").exists());
    // What it opens gets at most the rights it passes on: here, no right to write.
    let (errno, fd) = guest.open(dir, 0, b"file.txt", 0, FD_READ | FD_WRITE, 0);
    assert_eq!(errno, errno::SUCCESS);
    assert_eq!(guest.write_fd(fd, b"x").0, errno::NOTCAPABLE);
    assert_eq!(
        std::fs::read_to_string(root.join("sandbox/file.txt")).unwrap(),
        "data"
    );
}

#[test]
fn only_preopened_directories_are_visible() {
    let root = scratch("preopens");
    let mut guest = Guest::new(
        WasiCtxBuilder::new()
            .preopened_dir(root.join("sandbox"), "/data")
            .unwrap(),
    );
    assert_eq!(
        guest.call("fd_prestat_get", &[Val::I32(3), Val::I32(OUTPUT as i32)]),
        errno::SUCCESS
    );
    assert_eq!(guest.read_u32(OUTPUT + 4), 5);
    assert_eq!(
        guest.call(
            "fd_prestat_dir_name",
            &[Val::I32(3), Val::I32(INPUT as i32), Val::I32(5)]
        ),
        errno::SUCCESS
    );
    assert_eq!(guest.read(INPUT, 5), b"/data");
    assert_eq!(
        guest.call(
            "fd_prestat_dir_name",
            &[Val::I32(3), Val::I32(INPUT as i32), Val::I32(4)]
        ),
        errno::NAMETOOLONG
    );
    // Descriptor 4 is not open: the preopen scan ends there.
    assert_eq!(
        guest.call("fd_prestat_get", &[Val::I32(4), Val::I32(OUTPUT as i32)]),
        errno::BADF
    );
    // Standard streams are not directories.
    assert_eq!(
        guest.path_call("path_create_directory", 1, b"x"),
        errno::NOTDIR
    );
}
