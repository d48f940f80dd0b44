//! The bulk memory and table instructions (`memory.fill/copy/init`, `data.drop`,
//! `table.fill/copy/init`, `elem.drop`), implemented once for every tier.
//!
//! Each takes the executing instance and the instruction's immediates (memory, table and
//! segment indices of that instance's module) and its operands already widened to `u64`.
//! Bounds are checked before anything is written, so a trapping instruction changes
//! nothing, as the spec requires.

use crate::instance::element_values;
use crate::memory::checked_range;
use crate::store::{InstanceId, StoreOpaque};
use crate::table::bounds;
use crate::trap::TrapCode;

impl StoreOpaque {
    /// `memory.fill`.
    pub fn memory_fill(
        &mut self,
        instance: InstanceId,
        memory: u32,
        destination: u64,
        value: u8,
        len: u64,
    ) -> Result<(), TrapCode> {
        let id = self.instance(instance).memories[memory as usize];
        let memory = self.memory_mut(id);
        let range = checked_range(destination, len, memory.size_in_bytes())?;
        memory.data_mut()[range].fill(value);
        Ok(())
    }

    /// `memory.copy`, between two memories of the instance or within one (overlap allowed).
    pub fn memory_copy(
        &mut self,
        instance: InstanceId,
        destination_memory: u32,
        source_memory: u32,
        destination: u64,
        source: u64,
        len: u64,
    ) -> Result<(), TrapCode> {
        let entity = self.instance(instance);
        let destination_id = entity.memories[destination_memory as usize];
        let source_id = entity.memories[source_memory as usize];
        let source_range = checked_range(source, len, self.memory(source_id).size_in_bytes())?;
        let destination_range = checked_range(
            destination,
            len,
            self.memory(destination_id).size_in_bytes(),
        )?;
        if destination_id == source_id {
            self.memory_mut(destination_id)
                .data_mut()
                .copy_within(source_range, destination_range.start);
        } else {
            let bytes = self.memory(source_id).data()[source_range].to_vec();
            self.memory_mut(destination_id).data_mut()[destination_range].copy_from_slice(&bytes);
        }
        Ok(())
    }

    /// `memory.init` from data segment `segment` (empty once dropped).
    pub fn memory_init(
        &mut self,
        instance: InstanceId,
        memory: u32,
        segment: u32,
        destination: u64,
        source: u64,
        len: u64,
    ) -> Result<(), TrapCode> {
        let entity = self.instance(instance);
        let module = entity.module.clone();
        let bytes = if entity.dropped_data[segment as usize] {
            &[][..]
        } else {
            module.info.data_bytes(&module.info.data[segment as usize])
        };
        let id = entity.memories[memory as usize];
        let range = checked_range(source, len, bytes.len())?;
        self.memory_mut(id).write(destination, &bytes[range])
    }

    /// `data.drop`.
    pub fn data_drop(&mut self, instance: InstanceId, segment: u32) {
        self.instances[instance.index()].dropped_data[segment as usize] = true;
    }

    /// `table.fill`.
    pub fn table_fill(
        &mut self,
        instance: InstanceId,
        table: u32,
        start: u64,
        value: u64,
        len: u64,
    ) -> Result<(), TrapCode> {
        let id = self.instance(instance).tables[table as usize];
        self.table_mut(id).fill(start, value, len)
    }

    /// `table.copy`, between two tables of the instance or within one (overlap allowed).
    pub fn table_copy(
        &mut self,
        instance: InstanceId,
        destination_table: u32,
        source_table: u32,
        destination: u64,
        source: u64,
        len: u64,
    ) -> Result<(), TrapCode> {
        let entity = self.instance(instance);
        let destination_id = entity.tables[destination_table as usize];
        let source_id = entity.tables[source_table as usize];
        if destination_id == source_id {
            return self
                .table_mut(destination_id)
                .copy_within(destination, source, len);
        }
        let range = bounds(source, len, self.table(source_id).size())?;
        let values = self.table(source_id).read(range);
        self.table_mut(destination_id).write(destination, &values)
    }

    /// `table.init` from element segment `segment` (empty once dropped).
    pub fn table_init(
        &mut self,
        instance: InstanceId,
        table: u32,
        segment: u32,
        destination: u64,
        source: u64,
        len: u64,
    ) -> Result<(), TrapCode> {
        let entity = self.instance(instance);
        let module = entity.module.clone();
        let id = entity.tables[table as usize];
        let values = if entity.dropped_elements[segment as usize] {
            Vec::new()
        } else {
            element_values(
                self,
                instance,
                &module.info.elements[segment as usize].items,
            )
        };
        let range = bounds(source, len, values.len() as u64)?;
        self.table_mut(id).write(destination, &values[range])
    }

    /// `elem.drop`.
    pub fn elem_drop(&mut self, instance: InstanceId, segment: u32) {
        self.instances[instance.index()].dropped_elements[segment as usize] = true;
    }
}
