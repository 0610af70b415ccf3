//! Small helpers over rnix's syntax trees, shared by the rules that read the clan's Nix
//! files.

use rnix::ast;
use rnix::SyntaxNode;

/// `node` as the syntax `N`, if it is one (rnix's `AstNode` names rowan's trait, whose
/// methods are in scope through a bound).
pub(super) fn cast<N: ast::AstNode>(node: SyntaxNode) -> Option<N> {
    N::cast(node)
}

/// The syntax node of `n`.
pub(super) fn syn<N: ast::AstNode>(n: &N) -> &SyntaxNode {
    n.syntax()
}

/// The name of attribute `a` when it is static (no interpolation).
pub(super) fn static_name(a: &ast::Attr) -> Option<String> {
    match a {
        ast::Attr::Ident(i) => Some(i.ident_token()?.text().to_string()),
        ast::Attr::Str(s) => {
            let mut out = String::new();
            for part in s.normalized_parts() {
                match part {
                    ast::InterpolPart::Literal(l) => out.push_str(&l),
                    ast::InterpolPart::Interpolation(_) => return None,
                }
            }
            Some(out)
        }
        ast::Attr::Dynamic(_) => None,
    }
}
