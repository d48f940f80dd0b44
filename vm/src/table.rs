//! Tables of references.
//!
//! Elements are stored in the raw reference encoding of [`crate::value`] (0 is null), so a
//! funcref table is a plain array of `u64` that both tiers can index.
//!
//! Invariant: `definition` (boxed, so compiled code can keep its address) always holds the
//! address and length of `elements`; every method that can reallocate `elements` refreshes
//! it before returning.

use crate::offsets::VMTableDefinition;
use crate::trap::TrapCode;
use kestrel_parser::TableType;

/// One table.
#[derive(Debug)]
pub struct Table {
    ty: TableType,
    elements: Vec<u64>,
    maximum: u64,
    definition: Box<VMTableDefinition>,
}

/// Tables never grow beyond this many elements, whatever their declared maximum: it bounds
/// the host memory one `table.grow` can demand.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

impl Table {
    /// Creates a table of `ty.limits.minimum` elements, all `initial`.
    pub fn new(ty: TableType, initial: u64) -> Result<Table, String> {
        let mut table = Table::new_uninitialised(ty)?;
        table.elements.resize(ty.limits.minimum as usize, initial);
        table.sync_definition();
        Ok(table)
    }

    /// Creates a table of type `ty` holding a module's template (see
    /// [`crate::plan::InstancePlan::table_templates`]) for an instance whose first defined
    /// function has store id `first_func`: `template[i] + first_func`, or null where the
    /// template is 0. The template must have `ty.limits.minimum` elements.
    pub fn from_template(
        ty: TableType,
        template: &[u64],
        first_func: u32,
    ) -> Result<Table, String> {
        let mut table = Table::new_uninitialised(ty)?;
        let first = u64::from(first_func);
        // One pass, no branch: it vectorises.
        table.elements.extend(
            template
                .iter()
                .map(|value| value + (first & 0u64.wrapping_sub(u64::from(*value != 0)))),
        );
        table.sync_definition();
        Ok(table)
    }

    /// A table of type `ty` with no elements yet and room for its initial ones.
    fn new_uninitialised(ty: TableType) -> Result<Table, String> {
        let maximum = ty
            .limits
            .maximum
            .unwrap_or(u64::MAX)
            .min(MAX_TABLE_ELEMENTS);
        if ty.limits.minimum > maximum {
            return Err(format!(
                "table minimum of {} elements is too large",
                ty.limits.minimum
            ));
        }
        Ok(Table {
            ty,
            elements: Vec::with_capacity(ty.limits.minimum as usize),
            maximum,
            definition: Box::new(VMTableDefinition {
                base: std::ptr::null_mut(),
                current_elements: 0,
            }),
        })
    }

    fn sync_definition(&mut self) {
        self.definition.base = self.elements.as_mut_ptr();
        self.definition.current_elements = self.elements.len() as u64;
    }

    /// A stable pointer to the table's base and length, for compiled code; valid as long as
    /// this table lives.
    pub fn definition_ptr(&mut self) -> *mut VMTableDefinition {
        &mut *self.definition
    }

    pub fn ty(&self) -> TableType {
        self.ty
    }

    pub fn size(&self) -> u64 {
        self.elements.len() as u64
    }

    pub fn maximum(&self) -> u64 {
        self.maximum
    }

    pub fn elements(&self) -> &[u64] {
        &self.elements
    }

    #[inline]
    pub fn get(&self, index: u64) -> Result<u64, TrapCode> {
        self.elements
            .get(index as usize)
            .copied()
            .filter(|_| index <= usize::MAX as u64)
            .ok_or(TrapCode::TableOutOfBounds)
    }

    #[inline]
    pub fn set(&mut self, index: u64, value: u64) -> Result<(), TrapCode> {
        let slot = self
            .elements
            .get_mut(index as usize)
            .ok_or(TrapCode::TableOutOfBounds)?;
        *slot = value;
        Ok(())
    }

    /// Grows by `delta` elements set to `init`; returns the old size, or `None` on failure.
    pub fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        let old = self.size();
        let new = old.checked_add(delta).filter(|new| *new <= self.maximum)?;
        self.elements.try_reserve(delta as usize).ok()?;
        self.elements.resize(new as usize, init);
        self.sync_definition();
        Some(old)
    }

    pub fn fill(&mut self, start: u64, value: u64, len: u64) -> Result<(), TrapCode> {
        let range = bounds(start, len, self.size())?;
        self.elements[range].fill(value);
        Ok(())
    }

    /// `table.copy` within one table (overlap allowed).
    pub fn copy_within(&mut self, destination: u64, source: u64, len: u64) -> Result<(), TrapCode> {
        let source = bounds(source, len, self.size())?;
        let destination = bounds(destination, len, self.size())?;
        self.elements.copy_within(source, destination.start);
        Ok(())
    }

    /// Lets `fill` write the `len` elements from `start` in place, trapping (and writing
    /// nothing) when they do not fit.
    pub fn write_with(
        &mut self,
        start: u64,
        len: u64,
        fill: impl FnOnce(&mut [u64]),
    ) -> Result<(), TrapCode> {
        let range = bounds(start, len, self.size())?;
        fill(&mut self.elements[range]);
        Ok(())
    }

    /// Copies `values` to `start`, trapping (and copying nothing) when they do not fit.
    pub fn write(&mut self, start: u64, values: &[u64]) -> Result<(), TrapCode> {
        let range = bounds(start, values.len() as u64, self.size())?;
        self.elements[range].copy_from_slice(values);
        Ok(())
    }
}

/// `start..start+len` within `size`, or the table trap.
#[inline]
pub fn bounds(start: u64, len: u64, size: u64) -> Result<std::ops::Range<usize>, TrapCode> {
    match start.checked_add(len) {
        Some(end) if end <= size => Ok(start as usize..end as usize),
        _ => Err(TrapCode::TableOutOfBounds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_parser::{Limits, RefType};

    #[test]
    fn grow_fill_copy_respect_bounds() {
        let ty = TableType {
            element_type: RefType::FUNCREF,
            limits: Limits {
                minimum: 2,
                maximum: Some(4),
            },
            table64: false,
        };
        let mut table = Table::new(ty, 0).unwrap();
        assert_eq!(table.grow(2, 5), Some(2));
        assert_eq!(table.grow(1, 5), None);
        assert_eq!(table.elements(), &[0, 0, 5, 5]);
        table.fill(0, 9, 2).unwrap();
        assert_eq!(table.fill(3, 1, 2), Err(TrapCode::TableOutOfBounds));
        table.copy_within(1, 0, 3).unwrap();
        assert_eq!(table.elements(), &[9, 9, 9, 5]);
        assert_eq!(table.get(4), Err(TrapCode::TableOutOfBounds));
        assert_eq!(table.write(3, &[1, 2]), Err(TrapCode::TableOutOfBounds));
        assert_eq!(table.elements(), &[9, 9, 9, 5]);
        let definition = table.definition_ptr();
        // SAFETY: the definition lives as long as `table`.
        let definition = unsafe { &*definition };
        assert_eq!(definition.current_elements, 4);
        assert_eq!(definition.base.cast_const(), table.elements().as_ptr());
    }
}
