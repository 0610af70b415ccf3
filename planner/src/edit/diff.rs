//! Unified diffs of two texts (`diff -u` style, 3 lines of context).

/// The unified diff turning `old` into `new`, with `---`/`+++` headers naming `name`; empty
/// if they are equal.
pub fn unified(name: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let a = lines(old);
    let b = lines(new);
    let ops = edit_script(&a, &b);
    let mut out = format!("--- a/{name}\n+++ b/{name}\n");
    // Group the script into hunks with 3 lines of context.
    const CONTEXT: usize = 3;
    let n = ops.len();
    let mut i = 0;
    while i < n {
        if matches!(ops[i], Op::Same(..)) {
            i += 1;
            continue;
        }
        let start = i.saturating_sub(CONTEXT);
        let mut end = i;
        let mut j = i;
        while j < n {
            if !matches!(ops[j], Op::Same(..)) {
                end = j;
                j += 1;
                continue;
            }
            let run = ops[j..]
                .iter()
                .take_while(|o| matches!(o, Op::Same(..)))
                .count();
            if j + run >= n || run > 2 * CONTEXT {
                break;
            }
            j += run;
        }
        let stop = (end + 1 + CONTEXT).min(n);
        let hunk = &ops[start..stop];
        let (a0, b0) = match ops[start] {
            Op::Same(x, y) => (x, y),
            Op::Del(x) => (x, first_b(&ops[start..])),
            Op::Add(y) => (first_a(&ops[start..]), y),
        };
        let alen = hunk.iter().filter(|o| !matches!(o, Op::Add(_))).count();
        let blen = hunk.iter().filter(|o| !matches!(o, Op::Del(_))).count();
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(a0, alen, a.len()),
            range(b0, blen, b.len())
        ));
        for o in hunk {
            let (mark, line) = match *o {
                Op::Same(x, _) => (' ', a[x]),
                Op::Del(x) => ('-', a[x]),
                Op::Add(y) => ('+', b[y]),
            };
            out.push(mark);
            match line.strip_suffix('\n') {
                Some(l) => {
                    out.push_str(l);
                    out.push('\n');
                }
                None => {
                    out.push_str(line);
                    out.push_str("\n\\ No newline at end of file\n");
                }
            }
        }
        i = stop;
    }
    out
}

fn range(start: usize, len: usize, total: usize) -> String {
    let first = if len == 0 {
        start.min(total)
    } else {
        start + 1
    };
    if len == 1 {
        format!("{first}")
    } else {
        format!("{first},{len}")
    }
}

fn first_b(ops: &[Op]) -> usize {
    ops.iter()
        .find_map(|o| match o {
            Op::Same(_, y) | Op::Add(y) => Some(*y),
            Op::Del(_) => None,
        })
        .unwrap_or(0)
}

fn first_a(ops: &[Op]) -> usize {
    ops.iter()
        .find_map(|o| match o {
            Op::Same(x, _) | Op::Del(x) => Some(*x),
            Op::Add(_) => None,
        })
        .unwrap_or(0)
}

/// Lines with their newlines.
fn lines(s: &str) -> Vec<&str> {
    s.split_inclusive('\n').collect()
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Same(usize, usize),
    Del(usize),
    Add(usize),
}

/// A shortest edit script: common prefix and suffix, and a longest common subsequence
/// of what is between (quadratic in the changed region only).
fn edit_script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suf = a[pre..]
        .iter()
        .rev()
        .zip(b[pre..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[pre..a.len() - suf], &b[pre..b.len() - suf]);
    let mut ops: Vec<Op> = (0..pre).map(|i| Op::Same(i, i)).collect();
    if ma.len().saturating_mul(mb.len()) > 25_000_000 {
        ops.extend((0..ma.len()).map(|i| Op::Del(pre + i)));
        ops.extend((0..mb.len()).map(|j| Op::Add(pre + j)));
    } else {
        let (n, m) = (ma.len(), mb.len());
        let mut t = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                t[i * (m + 1) + j] = if ma[i] == mb[j] {
                    t[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    t[(i + 1) * (m + 1) + j].max(t[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && ma[i] == mb[j] {
                ops.push(Op::Same(pre + i, pre + j));
                i += 1;
                j += 1;
            } else if i < n && (j == m || t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1]) {
                ops.push(Op::Del(pre + i));
                i += 1;
            } else {
                ops.push(Op::Add(pre + j));
                j += 1;
            }
        }
    }
    let (la, lb) = (a.len() - suf, b.len() - suf);
    ops.extend((0..suf).map(|k| Op::Same(la + k, lb + k)));
    ops
}

#[cfg(test)]
mod tests {
    use super::unified;

    #[test]
    fn one_changed_line() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n";
        assert_eq!(
            unified("x", old, new),
            "--- a/x\n+++ b/x\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n"
        );
        assert_eq!(unified("x", old, old), "");
    }

    #[test]
    fn new_file_and_no_newline() {
        assert_eq!(
            unified("x", "", "{}"),
            "--- a/x\n+++ b/x\n@@ -0,0 +1 @@\n+{}\n\\ No newline at end of file\n"
        );
    }
}
