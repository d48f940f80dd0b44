//! What instantiation can work out once per module instead of once per instance: the
//! signature ids of the defined functions, the constant offsets of data segments, the
//! copy-on-write [`MemoryImage`] of each defined memory, the table contents of element
//! segments that list defined functions (`element_templates`: relative to the instance's
//! first function id, so one template serves every instance), the whole initial contents
//! of each defined table when the element segments allow it (`table_templates`), and the
//! `data.drop`/`elem.drop` state a successful instantiation leaves.
//!
//! Table templates follow the rule of memory images: they are built only when they give
//! exactly the spec's contents, i.e. every active element segment targets a table the
//! module defines (whose elements start null), has a constant offset, lists defined
//! functions only, and fits in the table's initial size. Then no segment can trap, and
//! applying them in order ahead of time gives the same elements; an instance's tables are
//! then made from the templates, lazily (see [`crate::table`]: nothing is copied until a
//! table is written or compiled code may read it), instead of being created null and
//! written segment by segment.
//!
//! Built on a module's first instantiation (so modules never instantiated pay nothing) and
//! kept in [`RuntimeModule::plan`](crate::RuntimeModule), shared by every instance in every
//! store.
//!
//! Images are built only when they reproduce the spec's behaviour exactly: every active
//! data segment targets a memory the module defines (not an imported one), has a constant
//! offset, and fits in its memory's initial size. Then writing the segments at
//! instantiation could not trap, so applying them ahead of time, in order, into an image
//! gives the same bytes. Otherwise instantiation copies the segments as the spec describes.
//! (The one ordering effect left, element segments trapping before data would be written,
//! is handled by instantiation, which zeroes image-initialised memories in that case.)

use crate::memory::{MemoryError, MemoryImage};
use crate::types::TypeId;
use kestrel_parser::{ConstExpr, ConstOp, DataMode, ElementItems, ElementMode, ModuleInfo};
use std::sync::Arc;

/// Modules with fewer data bytes than this have their segments copied rather than mapped.
/// One: mapping an image costs an `mmap` (none at all in a reused pool slot), while copying
/// even a few bytes costs a page fault and a fresh zeroed page per touched page.
pub const IMAGE_MIN_DATA_BYTES: usize = 1;

/// One optional image per defined memory.
pub type MemoryImages = Box<[Option<Arc<MemoryImage>>]>;

/// One optional template per element segment.
pub type Templates = Box<[Option<Box<[u64]>>]>;

/// One optional template per defined table, shared by the tables made from it.
pub type TableTemplates = Box<[Option<Arc<[u64]>>]>;

/// The per-module instantiation plan (see the module docs).
#[derive(Debug)]
pub struct InstancePlan {
    /// The signature id of each defined function.
    pub defined_func_types: Arc<[TypeId]>,
    /// The constant offset of each active data segment, `None` for passive segments and
    /// offsets that read globals.
    pub data_offsets: Box<[Option<u64>]>,
    /// One entry per defined memory: its image, when the module's data segments are all in
    /// images (then `data_in_images` is set).
    pub memory_images: MemoryImages,
    /// Every active data segment is in `memory_images`: with copy-on-write initialisation
    /// instantiation writes no data segment.
    pub data_in_images: bool,
    /// Per element segment: for an active segment of function indices that are all
    /// defined functions, each element's defined-function index (`index - imported
    /// functions`); an instance whose first defined function has store id `first` writes
    /// `template[i] + first + 1` (the funcref encoding) to its table. `None` otherwise.
    pub element_templates: Templates,
    /// `dropped_data` after instantiation succeeded: set for the active segments.
    pub data_dropped_after_init: Box<[bool]>,
    /// With `elements_in_templates`, one entry per defined table: its initial elements
    /// (0 for null, else 1 + a defined-function index, so an instance whose first defined
    /// function has store id `first` holds `template[i] + first` where it is not 0), or
    /// `None` for a table no segment writes (all null).
    pub table_templates: TableTemplates,
    /// Every active element segment is in `table_templates` (see the module docs).
    pub elements_in_templates: bool,
    /// `dropped_elements` after instantiation succeeded: set for the active and declared
    /// segments.
    pub elements_dropped_after_init: Box<[bool]>,
}

/// Defined tables larger than this many elements get no template (it would be kept per
/// module, in the plan).
pub const TABLE_TEMPLATE_MAX_ELEMENTS: u64 = 1 << 20;

impl InstancePlan {
    /// The plan of `info`, whose defined functions have signature ids `defined_func_types`.
    pub fn new(info: &ModuleInfo, defined_func_types: Arc<[TypeId]>) -> InstancePlan {
        let data_offsets: Box<[Option<u64>]> = info
            .data
            .iter()
            .map(|segment| match &segment.mode {
                DataMode::Active { offset, .. } => constant_offset(offset),
                DataMode::Passive => None,
            })
            .collect();
        let defined_memories = info.memories.len() - info.num_imported_memories as usize;
        let images = build_images(info, &data_offsets).ok().flatten();
        let data_in_images = images.is_some();
        let memory_images = images.unwrap_or_else(|| (0..defined_memories).map(|_| None).collect());
        let imported = info.num_imported_functions;
        let element_templates: Templates = info
            .elements
            .iter()
            .map(|segment| match (&segment.mode, &segment.items) {
                (ElementMode::Active { .. }, ElementItems::Functions(indices))
                    if indices.iter().all(|index| *index >= imported) =>
                {
                    Some(
                        indices
                            .iter()
                            .map(|index| u64::from(index - imported))
                            .collect(),
                    )
                }
                _ => None,
            })
            .collect();
        let data_dropped_after_init = info
            .data
            .iter()
            .map(|segment| matches!(segment.mode, DataMode::Active { .. }))
            .collect();
        let table_templates = build_table_templates(info, &element_templates);
        let elements_in_templates = table_templates.is_some();
        let defined_tables = info.tables.len() - info.num_imported_tables as usize;
        let elements_dropped_after_init = info
            .elements
            .iter()
            .map(|segment| !matches!(segment.mode, ElementMode::Passive))
            .collect();
        InstancePlan {
            defined_func_types,
            data_offsets,
            memory_images,
            data_in_images,
            element_templates,
            data_dropped_after_init,
            table_templates: table_templates
                .unwrap_or_else(|| (0..defined_tables).map(|_| None).collect()),
            elements_in_templates,
            elements_dropped_after_init,
        }
    }
}

/// The initial contents of the defined tables, or `None` when some active element segment
/// cannot be applied ahead of time (see the module docs).
fn build_table_templates(
    info: &ModuleInfo,
    element_templates: &[Option<Box<[u64]>>],
) -> Option<TableTemplates> {
    let imported = info.num_imported_tables as usize;
    let mut templates: Vec<Option<Vec<u64>>> = vec![None; info.tables.len() - imported];
    for (segment, template) in info.elements.iter().zip(element_templates) {
        let ElementMode::Active { table, offset } = &segment.mode else {
            continue;
        };
        let defined = (*table as usize).checked_sub(imported)?;
        let definition = info.table_definitions.get(defined)?;
        if definition.init.is_some() {
            return None;
        }
        let template = template.as_ref()?;
        let minimum = definition.ty.limits.minimum;
        if minimum > TABLE_TEMPLATE_MAX_ELEMENTS {
            return None;
        }
        let offset = constant_offset(offset)?;
        let offset = if definition.ty.table64 {
            offset
        } else {
            offset as u32 as u64
        };
        let end = offset
            .checked_add(template.len() as u64)
            .filter(|end| *end <= minimum)?;
        let contents = templates[defined].get_or_insert_with(|| vec![0; minimum as usize]);
        for (slot, defined_function) in contents[offset as usize..end as usize]
            .iter_mut()
            .zip(template.iter())
        {
            *slot = defined_function + 1;
        }
    }
    Some(
        templates
            .into_iter()
            .map(|contents| contents.map(Arc::from))
            .collect(),
    )
}

/// The value of an offset expression that is a single constant.
pub fn constant_offset(expr: &ConstExpr) -> Option<u64> {
    match *expr.ops {
        [ConstOp::I32Const(value)] => Some(value as u32 as u64),
        [ConstOp::I64Const(value)] => Some(value as u64),
        _ => None,
    }
}

/// The images of the defined memories, or `None` when some active segment cannot go into
/// one (or there is too little data to be worth it).
fn build_images(
    info: &ModuleInfo,
    offsets: &[Option<u64>],
) -> Result<Option<MemoryImages>, MemoryError> {
    let imported = info.num_imported_memories as usize;
    let defined = &info.memories[imported..];
    // Where each segment goes, and the span of each memory the segments cover: the image
    // holds only that span (C programs put their data 16 MiB up, above the stack).
    let mut placements: Vec<(usize, usize, &[u8])> = Vec::new();
    let mut spans: Vec<Option<(usize, usize)>> = vec![None; defined.len()];
    let mut total = 0;
    for (segment, offset) in info.data.iter().zip(offsets) {
        let DataMode::Active { memory, .. } = segment.mode else {
            continue;
        };
        let Some(offset) = *offset else {
            return Ok(None);
        };
        let Some(defined_index) = (memory as usize).checked_sub(imported) else {
            return Ok(None);
        };
        let ty = defined[defined_index];
        if ty.shared {
            return Ok(None);
        }
        let bytes = info.data_bytes(segment);
        let offset = if ty.memory64 {
            offset
        } else {
            offset as u32 as u64
        };
        let initial = ty.limits.minimum.saturating_mul(ty.page_size());
        let Some(end) = offset
            .checked_add(bytes.len() as u64)
            .filter(|end| *end <= initial)
            .and_then(|end| usize::try_from(end).ok())
        else {
            return Ok(None);
        };
        let offset = offset as usize; // offset <= end, which fits
        if !bytes.is_empty() {
            let span = spans[defined_index].get_or_insert((offset, end));
            *span = (span.0.min(offset), span.1.max(end));
            placements.push((defined_index, offset, bytes));
            total += bytes.len();
        }
    }
    if total < IMAGE_MIN_DATA_BYTES {
        return Ok(None);
    }
    let page = crate::memory::host_page_size();
    let mut contents: Vec<(usize, Vec<u8>)> = spans
        .iter()
        .map(|span| match *span {
            Some((low, high)) => {
                let start = low / page * page;
                (start, vec![0; high - start])
            }
            None => (0, Vec::new()),
        })
        .collect();
    // In segment order: a later segment overwrites an earlier one where they overlap.
    for (defined_index, offset, bytes) in placements {
        let (start, image) = &mut contents[defined_index];
        image[offset - *start..offset - *start + bytes.len()].copy_from_slice(bytes);
    }
    contents
        .iter()
        .map(|(start, bytes)| {
            if bytes.is_empty() {
                Ok(None)
            } else {
                MemoryImage::new_at(*start, bytes).map(|image| Some(Arc::new(image)))
            }
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::TypeRegistry;
    use kestrel_parser::Features;

    fn plan(text: &str) -> InstancePlan {
        let bytes = wat::parse_str(text).unwrap();
        let info = kestrel_parser::parse(bytes, &Features::default()).unwrap();
        let module = crate::RuntimeModule::new(Arc::new(info), &TypeRegistry::default());
        InstancePlan::new(&module.info, Arc::from(Vec::new()))
    }

    /// wasi-sdk puts a C program's data 16 MiB up; the image covers only the pages the
    /// segments touch, and overlapping segments apply in order, as instantiation would.
    #[test]
    fn a_memory_image_covers_only_the_segments_and_applies_them_in_order() {
        let plan = plan(
            r#"(module
                (memory 300)
                (data (i32.const 16777216) "abcdef")
                (data (i32.const 16777218) "XY")
                (data (i32.const 16777220) "")
                (data (i32.const 16790000) "\01"))"#,
        );
        assert!(plan.data_in_images);
        let image = plan.memory_images[0].clone().expect("an image");
        let page = crate::memory::host_page_size();
        assert_eq!(image.offset(), 16777216 / page * page);
        assert!(
            image.len() <= 16790001 - image.offset() + page,
            "{}",
            image.len()
        );
        let ty = plan_memory_type(300);
        let memory =
            crate::LinearMemory::with_image(ty, &crate::MemoryConfig::default(), Some(&image))
                .unwrap();
        let data = memory.data();
        assert_eq!(&data[16777216..16777222], b"abXYef");
        assert_eq!(data[16790000], 1);
        assert!(data[..16777216].iter().all(|byte| *byte == 0));
        assert!(data[16777222..16790000].iter().all(|byte| *byte == 0));
        assert!(data[16790001..].iter().all(|byte| *byte == 0));
    }

    fn plan_memory_type(pages: u64) -> kestrel_parser::MemoryType {
        let bytes = wat::parse_str(format!("(module (memory {pages}))")).unwrap();
        let info = kestrel_parser::parse(bytes, &Features::default()).unwrap();
        info.memories[0]
    }

    #[test]
    fn table_templates_hold_the_segments_applied_in_order() {
        let plan = plan(
            r#"(module
              (import "m" "f" (func))
              (table 5 funcref) (table 2 funcref)
              (func $a) (func $b) (func $c)
              (elem (i32.const 0) $a $b)
              (elem (i32.const 1) $c)
              (elem declare func $a))"#,
        );
        assert!(plan.elements_in_templates);
        // 1 + the defined-function index; 0 is null.
        assert_eq!(
            plan.table_templates[0].as_deref(),
            Some(&[1, 3, 0, 0, 0][..])
        );
        assert_eq!(plan.table_templates[1], None);
        assert_eq!(&*plan.elements_dropped_after_init, &[true, true, true]);
    }

    #[test]
    fn segments_that_cannot_be_applied_ahead_get_no_table_template() {
        for text in [
            // An imported function.
            r#"(module (import "m" "f" (func $f)) (table 2 funcref) (elem (i32.const 0) $f))"#,
            // Past the initial size: instantiation traps.
            r#"(module (table 2 funcref) (func $f) (elem (i32.const 1) $f $f))"#,
            // An offset from a global.
            r#"(module (import "m" "g" (global i32)) (table 2 funcref) (func $f)
                 (elem (global.get 0) $f))"#,
            // An imported table.
            r#"(module (import "m" "t" (table 2 funcref)) (func $f) (elem (i32.const 0) $f))"#,
        ] {
            let plan = plan(text);
            assert!(!plan.elements_in_templates, "{text}");
            assert!(plan.table_templates.iter().all(Option::is_none), "{text}");
        }
    }
}
