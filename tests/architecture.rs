//! Architecture rules for the source tree in `src/`, checked by parsing every file with `syn`.
//!
//! - `no_function_longer_than_120_lines`: a function over 120 lines does several jobs at once
//!   and is hard to review, so no non-test `fn` in `src/` may be longer.
//! - `no_source_file_longer_than_800_lines`: a file over 800 lines mixes concerns and is hard
//!   to navigate, so no file in `src/` may be longer.
//! - `top_level_modules_form_no_cycle`: modules that depend on each other in a cycle cannot be
//!   understood, tested or split apart alone, so the `crate::X` graph between top-level modules
//!   must be acyclic.
//! - `model_layer_imports_nothing_above_it`: the model is the bottom layer every other module
//!   builds on, so nothing under `src/model/` may name a `crate::X` path outside `model`.
//!
//! All four share one walker ([`Walker`]) that records, for the non-test code of each file,
//! its functions with their line spans and every path that names a top-level item of the crate
//! (`crate::x::…`, grouped `use crate::{x, y}`, `super::…` climbing to the crate root, and the
//! same shapes inside macro invocations). Code under `#[cfg(test)]` and `#[test]` functions is
//! skipped, as are whole files declared by `#[cfg(test)] mod x;`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Attribute, Block, ImplItem, Item, Meta, Token, TraitItem, Type, UseTree};

const MAX_FN_LINES: usize = 120;
const MAX_FILE_LINES: usize = 800;
/// The bottom layer; see `model_layer_imports_nothing_above_it`.
const MODEL: &str = "model";

// ---------------------------------------------------------------------------------------------
// The shared walker
// ---------------------------------------------------------------------------------------------

/// One file of `src/` and what the walker found in its non-test code.
struct SourceFile {
    /// Path relative to the crate root, e.g. `src/sink/kafka.rs`.
    rel: String,
    /// Module path of the file, e.g. `["sink", "kafka"]`; empty for `lib.rs` and `main.rs`.
    module: Vec<String>,
    /// Lines in the whole file.
    lines: usize,
    /// The file is compiled only for tests (`#![cfg(test)]`, or declared by `#[cfg(test)] mod`).
    test_only: bool,
    facts: Facts,
}

impl SourceFile {
    /// The top-level module this file belongs to (`None` for `lib.rs` and `main.rs`).
    fn top_module(&self) -> Option<&str> {
        self.module.first().map(String::as_str)
    }
}

/// What [`Walker`] records while visiting one file.
#[derive(Default)]
struct Facts {
    fns: Vec<FnSpan>,
    refs: Vec<CrateRef>,
    /// Module paths declared out of line under `#[cfg(test)]` (`#[cfg(test)] mod tests;`).
    test_mods: Vec<Vec<String>>,
}

/// A function with a body: `name` is qualified by its impl type, trait or enclosing fn.
struct FnSpan {
    name: String,
    line: usize,
    lines: usize,
}

/// A path naming `target`, an item directly under the crate root (`crate::target::…`).
struct CrateRef {
    target: String,
    line: usize,
}

/// The one visitor behind all four checks.
struct Walker {
    /// Module path of the code being visited (the file's module plus inline `mod x { }`).
    module: Vec<String>,
    /// Enclosing impl type / trait / fn names, to qualify function names.
    owners: Vec<String>,
    facts: Facts,
}

impl Walker {
    fn record_fn(&mut self, ident: &Ident, fn_token: Span, body: &Block) {
        let line = fn_token.start().line;
        let close = body.brace_token.span.close().end().line;
        let mut name = self.owners.join("::");
        if !name.is_empty() {
            name.push_str("::");
        }
        name.push_str(&ident.to_string());
        self.facts.fns.push(FnSpan {
            name,
            line,
            lines: close + 1 - line,
        });
    }

    /// Records `segments` (a path as written, first segment at `span`) if it names the crate root.
    fn record_path(&mut self, segments: &[String], span: Span) {
        if let Some(target) = crate_root_target(&self.module, segments) {
            self.facts.refs.push(CrateRef {
                target,
                line: span.start().line,
            });
        }
    }

    fn with_owner(&mut self, owner: String, visit: impl FnOnce(&mut Self)) {
        self.owners.push(owner);
        visit(self);
        self.owners.pop();
    }

    /// Finds `crate::x…` / `super::…` chains in unparsed macro input (`matches!(v, crate::x::Y)`).
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, token) in tokens.iter().enumerate() {
            match token {
                TokenTree::Group(group) => self.scan_tokens(group.stream()),
                TokenTree::Ident(ident) if ident == "crate" || ident == "super" => {
                    if i >= 2 && is_path_sep(&tokens[i - 2], &tokens[i - 1]) {
                        continue; // a later segment of a chain already recorded
                    }
                    let mut segments = vec![ident.to_string()];
                    let mut j = i + 1;
                    while j + 2 < tokens.len() && is_path_sep(&tokens[j], &tokens[j + 1]) {
                        let TokenTree::Ident(next) = &tokens[j + 2] else {
                            break;
                        };
                        segments.push(next.to_string());
                        j += 3;
                    }
                    self.record_path(&segments, ident.span());
                }
                _ => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Walker {
    fn visit_item(&mut self, item: &'ast Item) {
        if is_test_only(item_attrs(item)) {
            if let Item::Mod(module) = item {
                if module.content.is_none() {
                    let mut path = self.module.clone();
                    path.push(module.ident.to_string());
                    self.facts.test_mods.push(path);
                }
            }
            return;
        }
        visit::visit_item(self, item);
    }

    fn visit_impl_item(&mut self, item: &'ast ImplItem) {
        let attrs: &[Attribute] = match item {
            ImplItem::Const(i) => &i.attrs,
            ImplItem::Fn(i) => &i.attrs,
            ImplItem::Type(i) => &i.attrs,
            ImplItem::Macro(i) => &i.attrs,
            _ => &[],
        };
        if !is_test_only(attrs) {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_trait_item(&mut self, item: &'ast TraitItem) {
        let attrs: &[Attribute] = match item {
            TraitItem::Const(i) => &i.attrs,
            TraitItem::Fn(i) => &i.attrs,
            TraitItem::Type(i) => &i.attrs,
            TraitItem::Macro(i) => &i.attrs,
            _ => &[],
        };
        if !is_test_only(attrs) {
            visit::visit_trait_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.module.push(item.ident.to_string());
        visit::visit_item_mod(self, item);
        self.module.pop();
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let owner = match &*item.self_ty {
            Type::Path(ty) => ty.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        self.with_owner(owner.unwrap_or_else(|| "impl".into()), |w| {
            visit::visit_item_impl(w, item)
        });
    }

    fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
        self.with_owner(item.ident.to_string(), |w| visit::visit_item_trait(w, item));
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.record_fn(&item.sig.ident, item.sig.fn_token.span, &item.block);
        self.with_owner(item.sig.ident.to_string(), |w| {
            visit::visit_item_fn(w, item)
        });
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.record_fn(&item.sig.ident, item.sig.fn_token.span, &item.block);
        self.with_owner(item.sig.ident.to_string(), |w| {
            visit::visit_impl_item_fn(w, item)
        });
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if let Some(body) = &item.default {
            self.record_fn(&item.sig.ident, item.sig.fn_token.span, body);
        }
        self.with_owner(item.sig.ident.to_string(), |w| {
            visit::visit_trait_item_fn(w, item)
        });
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        flatten_use_tree(&item.tree, &mut Vec::new(), None, &mut paths);
        for (segments, span) in paths {
            self.record_path(&segments, span);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() {
            if let Some(first) = path.segments.first() {
                let segments: Vec<String> =
                    path.segments.iter().map(|s| s.ident.to_string()).collect();
                self.record_path(&segments, first.ident.span());
            }
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        visit::visit_macro(self, mac);
        self.scan_tokens(mac.tokens.clone());
    }
}

/// The crate-root item a path names, if it climbs to the crate root: `crate::x::…` names `x`;
/// `super::…` from inside top-level module `m` names `m` until enough `super`s reach the root.
fn crate_root_target(module: &[String], segments: &[String]) -> Option<String> {
    match segments.first()?.as_str() {
        "crate" => segments.get(1).cloned(),
        "super" => {
            let ups = segments.iter().take_while(|s| *s == "super").count();
            let depth = module.len().checked_sub(ups)?;
            if depth > 0 {
                Some(module[0].clone())
            } else {
                segments.get(ups).cloned()
            }
        }
        _ => None,
    }
}

/// Every leaf of a `use` tree as a full path (`*` for a glob), with the span of its first segment.
fn flatten_use_tree(
    tree: &UseTree,
    prefix: &mut Vec<String>,
    first: Option<Span>,
    out: &mut Vec<(Vec<String>, Span)>,
) {
    let mut leaf = |name: String, span: Span| {
        let mut path = prefix.clone();
        path.push(name);
        out.push((path, first.unwrap_or(span)));
    };
    match tree {
        UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use_tree(&p.tree, prefix, first.or(Some(p.ident.span())), out);
            prefix.pop();
        }
        UseTree::Name(n) => leaf(n.ident.to_string(), n.ident.span()),
        UseTree::Rename(r) => leaf(r.ident.to_string(), r.ident.span()),
        UseTree::Glob(g) => leaf("*".into(), g.star_token.span),
        UseTree::Group(g) => {
            for item in &g.items {
                flatten_use_tree(item, prefix, first, out);
            }
        }
    }
}

/// `a b` is `::`.
fn is_path_sep(a: &TokenTree, b: &TokenTree) -> bool {
    let is_colon = |t: &TokenTree| matches!(t, TokenTree::Punct(p) if p.as_char() == ':');
    is_colon(a) && is_colon(b)
}

fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

/// `#[test]` (or `#[tokio::test]` …), or a `#[cfg(…)]` that requires `test`.
fn is_test_only(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let path = attr.path();
        path.segments.last().is_some_and(|s| s.ident == "test")
            || (path.is_ident("cfg")
                && attr
                    .parse_args::<Meta>()
                    .is_ok_and(|m| cfg_requires_test(&m)))
    })
}

/// `test`, or `all(…)` with a conjunct that requires `test`.
fn cfg_requires_test(predicate: &Meta) -> bool {
    match predicate {
        Meta::Path(path) => path.is_ident("test"),
        Meta::List(list) if list.path.is_ident("all") => list
            .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            .is_ok_and(|all| all.iter().any(cfg_requires_test)),
        _ => false,
    }
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// `lib.rs`/`main.rs` → `[]`, `a.rs` and `a/mod.rs` → `[a]`, `a/b.rs` → `[a, b]`.
fn module_path(rel_to_src: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel_to_src
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        parts.clear();
    }
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn parse_source_file(path: &Path) -> SourceFile {
    let src = src_dir();
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let rel_to_src = path.strip_prefix(&src).expect("file under src/");
    let rel = Path::new("src").join(rel_to_src).display().to_string();
    let ast = syn::parse_file(&text).unwrap_or_else(|e| {
        let at = e.span().start();
        panic!("{rel}:{}:{}: cannot parse: {e}", at.line, at.column + 1)
    });
    let module = module_path(rel_to_src);
    let mut walker = Walker {
        module: module.clone(),
        owners: Vec::new(),
        facts: Facts::default(),
    };
    let test_only = is_test_only(&ast.attrs);
    if !test_only {
        walker.visit_file(&ast);
    }
    SourceFile {
        rel,
        module,
        lines: text.lines().count(),
        test_only,
        facts: walker.facts,
    }
}

/// Every `.rs` file under `src/`, parsed once and shared by all tests.
fn source_tree() -> &'static [SourceFile] {
    static TREE: OnceLock<Vec<SourceFile>> = OnceLock::new();
    TREE.get_or_init(|| {
        let mut paths = Vec::new();
        rust_files(&src_dir(), &mut paths);
        let mut files: Vec<SourceFile> = paths.iter().map(|p| parse_source_file(p)).collect();
        let test_mods: Vec<Vec<String>> = files
            .iter()
            .flat_map(|f| f.facts.test_mods.iter().cloned())
            .collect();
        for file in &mut files {
            if test_mods.iter().any(|m| file.module.starts_with(m)) {
                file.test_only = true;
            }
        }
        files
    })
}

/// Non-test files only.
fn production_files() -> impl Iterator<Item = &'static SourceFile> {
    source_tree().iter().filter(|f| !f.test_only)
}

/// Names of the top-level modules: `src/X.rs` and `src/X/`, without `lib.rs` and `main.rs`.
fn top_level_modules() -> BTreeSet<String> {
    fs::read_dir(src_dir())
        .expect("read src/")
        .map(|entry| entry.expect("directory entry").path())
        .filter_map(|path| {
            let stem = path.file_stem()?.to_string_lossy().into_owned();
            let is_module_file = path.extension().is_some_and(|e| e == "rs");
            (path.is_dir() || (is_module_file && stem != "lib" && stem != "main")).then_some(stem)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------

#[test]
fn no_function_longer_than_120_lines() {
    let mut offenders = String::new();
    let mut count = 0;
    for file in production_files() {
        for f in file.facts.fns.iter().filter(|f| f.lines > MAX_FN_LINES) {
            count += 1;
            let _ = writeln!(
                offenders,
                "  {}:{} {} ({} lines)",
                file.rel, f.line, f.name, f.lines
            );
        }
    }
    assert!(
        offenders.is_empty(),
        "{count} function(s) longer than {MAX_FN_LINES} lines (from the `fn` line through the \
         closing brace); split them:\n{offenders}"
    );
}

#[test]
fn no_source_file_longer_than_800_lines() {
    let mut offenders = String::new();
    let mut count = 0;
    for file in source_tree().iter().filter(|f| f.lines > MAX_FILE_LINES) {
        count += 1;
        let _ = writeln!(offenders, "  {} ({} lines)", file.rel, file.lines);
    }
    assert!(
        offenders.is_empty(),
        "{count} source file(s) longer than {MAX_FILE_LINES} lines; split them:\n{offenders}"
    );
}

/// Top-level module → modules it names → the `path:line` sites that name them.
type Graph = BTreeMap<String, BTreeMap<String, Vec<String>>>;

#[test]
fn top_level_modules_form_no_cycle() {
    let modules = top_level_modules();
    let mut graph: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeMap::new()))
        .collect();
    for file in production_files() {
        let Some(from) = file.top_module() else {
            continue;
        };
        for r in &file.facts.refs {
            if r.target != from && modules.contains(&r.target) {
                let sites = graph
                    .get_mut(from)
                    .expect("file of a top-level module")
                    .entry(r.target.clone())
                    .or_default();
                let site = format!("{}:{}", file.rel, r.line);
                if sites.last() != Some(&site) {
                    sites.push(site);
                }
            }
        }
    }

    let cycles: Vec<Vec<String>> = strongly_connected_components(&graph)
        .into_iter()
        .filter(|scc| scc.len() > 1)
        .collect();
    let mut report = String::new();
    for (i, scc) in cycles.iter().enumerate() {
        let members: BTreeSet<&String> = scc.iter().collect();
        let _ = writeln!(report, "cycle {}: {{{}}}", i + 1, scc.join(", "));
        let _ = writeln!(
            report,
            "  e.g. {}",
            shortest_cycle(&graph, &members, scc[0].as_str()).join(" -> ")
        );
        for from in scc {
            for (to, sites) in &graph[from] {
                if members.contains(to) {
                    let _ = writeln!(report, "  {from} -> {to}: {}", sites.join(", "));
                }
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "{} cycle(s) between top-level modules of src/ (an edge A -> B is non-test code in A \
         naming `crate::B`); break the edges that point the wrong way:\n{report}",
        cycles.len()
    );
}

/// Tarjan's algorithm; each component is sorted, components in discovery order.
fn strongly_connected_components(graph: &Graph) -> Vec<Vec<String>> {
    struct Tarjan<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        out: Vec<Vec<String>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, v: &'g str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph[v].keys() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut scc = Vec::new();
                loop {
                    let w = self.stack.pop().expect("v is on the stack");
                    self.on_stack.remove(w);
                    scc.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                scc.sort();
                self.out.push(scc);
            }
        }
    }
    let mut tarjan = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !tarjan.index.contains_key(v.as_str()) {
            tarjan.visit(v);
        }
    }
    tarjan.out
}

/// A shortest cycle through `start` using only edges inside `members` (breadth-first).
fn shortest_cycle(graph: &Graph, members: &BTreeSet<&String>, start: &str) -> Vec<String> {
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in graph[v].keys().filter(|w| members.contains(w)) {
            if w == start {
                let mut back = Vec::new();
                let mut at = v;
                while at != start {
                    back.push(at.to_string());
                    at = parent[at];
                }
                let mut path = vec![start.to_string()];
                path.extend(back.into_iter().rev());
                path.push(start.to_string());
                return path;
            }
            if !parent.contains_key(w.as_str()) {
                parent.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    vec![start.to_string()]
}

#[test]
fn model_layer_imports_nothing_above_it() {
    let dir = src_dir().join(MODEL);
    assert!(
        dir.is_dir(),
        "the model layer is missing: {} does not exist; the layering rule cannot hold without it",
        dir.display()
    );
    let model_files: Vec<&SourceFile> = source_tree()
        .iter()
        .filter(|f| f.top_module() == Some(MODEL))
        .collect();
    assert!(
        !model_files.is_empty(),
        "the model layer is missing: {} holds no .rs files",
        dir.display()
    );
    let mut offenders = String::new();
    let mut count = 0;
    for file in model_files.iter().filter(|f| !f.test_only) {
        for r in file.facts.refs.iter().filter(|r| r.target != MODEL) {
            count += 1;
            let _ = writeln!(
                offenders,
                "  {}:{} names crate::{}",
                file.rel, r.line, r.target
            );
        }
    }
    assert!(
        offenders.is_empty(),
        "{count} path(s) in src/{MODEL}/ reach above the model layer (only `crate::{MODEL}::…` \
         is allowed there):\n{offenders}"
    );
}
