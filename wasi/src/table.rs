//! The guest's file descriptor table: what each number stands for, and its rights.
//!
//! Descriptors are numbers the guest holds; the host objects (files, directories, sockets,
//! stdio streams) live only here. A new descriptor gets the number after the largest one
//! in use, as Wasmtime does, so a closed number is not handed out again at once.

use crate::abi::{Errno, Result};
use crate::stdio::{Input, Output};
use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};

/// One open descriptor.
pub(crate) struct Entry {
    pub(crate) kind: Kind,
    /// What operations on this descriptor may do (`fd_fdstat_get`'s `fs_rights_base`).
    pub(crate) base: u64,
    /// The rights descriptors opened through this one may get (`fs_rights_inheriting`).
    pub(crate) inheriting: u64,
    /// The `fdflags` last set (at open or by `fd_fdstat_set_flags`).
    pub(crate) flags: u16,
}

pub(crate) enum Kind {
    Stdin(Input),
    Output(Output),
    File(std::fs::File),
    Dir(Dir),
    Listener(TcpListener),
    Stream(TcpStream),
}

/// An open directory.
pub(crate) struct Dir {
    pub(crate) dir: cap_std::fs::Dir,
    /// The guest path it was preopened as, for the preopens.
    pub(crate) preopen: Option<String>,
    /// The entries `fd_readdir` lists, read when a listing starts at cookie 0 and kept so
    /// later calls continue the same listing (the cookie is an index into it).
    pub(crate) listing: Option<Vec<DirItem>>,
}

/// One entry of a directory listing.
#[derive(Debug, Clone)]
pub(crate) struct DirItem {
    pub(crate) name: Vec<u8>,
    pub(crate) inode: u64,
    pub(crate) filetype: u8,
}

impl Entry {
    /// Fails with `notcapable` unless the descriptor has every right in `needed`.
    pub(crate) fn require(&self, needed: u64) -> Result<()> {
        if self.base & needed == needed {
            Ok(())
        } else {
            Err(Errno::Notcapable)
        }
    }
}

#[derive(Default)]
pub(crate) struct Table {
    entries: BTreeMap<u32, Entry>,
}

impl Table {
    pub(crate) fn get(&self, fd: u32) -> Result<&Entry> {
        self.entries.get(&fd).ok_or(Errno::Badf)
    }

    pub(crate) fn get_mut(&mut self, fd: u32) -> Result<&mut Entry> {
        self.entries.get_mut(&fd).ok_or(Errno::Badf)
    }

    /// The entry, after checking it has the rights in `needed`.
    pub(crate) fn with_rights(&self, fd: u32, needed: u64) -> Result<&Entry> {
        let entry = self.get(fd)?;
        entry.require(needed)?;
        Ok(entry)
    }

    /// The open directory `fd`, after checking the rights in `needed`. A descriptor that is
    /// not a directory is `notdir`, checked first: asking a file for a path right is a
    /// type error rather than a missing capability.
    pub(crate) fn dir(&self, fd: u32, needed: u64) -> Result<&Dir> {
        let entry = self.get(fd)?;
        let Kind::Dir(dir) = &entry.kind else {
            return Err(Errno::Notdir);
        };
        entry.require(needed)?;
        Ok(dir)
    }

    /// Adds an entry under the next number and returns it.
    pub(crate) fn push(&mut self, entry: Entry) -> Result<u32> {
        let fd = match self.entries.last_key_value() {
            None => 0,
            Some((&last, _)) => match last.checked_add(1) {
                Some(fd) => fd,
                // The top number is taken: fall back to the first free one.
                None => (0..u32::MAX)
                    .find(|fd| !self.entries.contains_key(fd))
                    .ok_or(Errno::Nfile)?,
            },
        };
        self.entries.insert(fd, entry);
        Ok(fd)
    }

    /// Puts an entry under a chosen number (the stdio descriptors).
    pub(crate) fn insert_at(&mut self, fd: u32, entry: Entry) {
        self.entries.insert(fd, entry);
    }

    pub(crate) fn remove(&mut self, fd: u32) -> Result<Entry> {
        self.entries.remove(&fd).ok_or(Errno::Badf)
    }

    /// `fd_renumber`: moves `from` to `to`, closing what `to` was. Both must be open.
    pub(crate) fn renumber(&mut self, from: u32, to: u32) -> Result<()> {
        if !self.entries.contains_key(&from) || !self.entries.contains_key(&to) {
            return Err(Errno::Badf);
        }
        if from != to {
            let entry = self.remove(from)?;
            self.entries.insert(to, entry);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::rights;

    fn stdin_entry() -> Entry {
        Entry {
            kind: Kind::Stdin(Input::Empty),
            base: rights::STDIN,
            inheriting: 0,
            flags: 0,
        }
    }

    #[test]
    fn numbers_follow_the_largest() {
        let mut table = Table::default();
        assert_eq!(table.push(stdin_entry()), Ok(0));
        assert_eq!(table.push(stdin_entry()), Ok(1));
        table.remove(0).unwrap();
        assert_eq!(table.push(stdin_entry()), Ok(2));
        table.insert_at(u32::MAX, stdin_entry());
        assert_eq!(table.push(stdin_entry()), Ok(0));
    }

    #[test]
    fn renumber_needs_both_open() {
        let mut table = Table::default();
        table.push(stdin_entry()).unwrap();
        table.push(stdin_entry()).unwrap();
        assert_eq!(table.renumber(0, 5), Err(Errno::Badf));
        assert_eq!(table.renumber(0, 1), Ok(()));
        assert!(table.get(0).is_err());
        assert!(table.get(1).is_ok());
        assert_eq!(table.renumber(1, 1), Ok(()));
    }

    #[test]
    fn rights_are_checked() {
        let mut table = Table::default();
        let fd = table.push(stdin_entry()).unwrap();
        assert!(table.with_rights(fd, rights::FD_READ).is_ok());
        assert_eq!(
            table.with_rights(fd, rights::FD_WRITE).err(),
            Some(Errno::Notcapable)
        );
        assert_eq!(table.dir(fd, 0).err(), Some(Errno::Notdir));
        assert_eq!(table.get(7).err(), Some(Errno::Badf));
    }
}
