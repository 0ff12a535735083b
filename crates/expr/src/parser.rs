//! Recursive-descent parser from tokens to the resolved tree.
//!
//! Recursion is bounded by `Limits::max_depth` (each nested expression, unary operator and
//! index counts), and so is the depth of the resulting tree, so evaluation cannot overflow the
//! stack either.

use crate::ast::{BinOp, Kind, Node};
use crate::error::{CompileError, Position};
use crate::lexer::{Tok, Token};
use crate::limits::Limits;
use crate::resolve;
use crate::value::Value;

/// A parsed program and the attribute names it reads.
pub(crate) struct Parsed {
    pub root: Node,
    pub attributes: Vec<String>,
}

pub(crate) fn parse(tokens: Vec<Token>, limits: &Limits) -> Result<Parsed, CompileError> {
    let mut parser = Parser {
        tokens,
        i: 0,
        depth: 0,
        max_depth: limits.max_depth,
        attributes: Vec::new(),
    };
    let root = parser.expr()?;
    let end = parser.peek();
    if end.tok != Tok::Eof {
        let msg = format!(
            "unexpected {} after the end of the expression",
            end.tok.describe()
        );
        return Err(CompileError::new(end.pos, msg));
    }
    Ok(Parsed {
        root,
        attributes: parser.attributes,
    })
}

static EOF: Token = Token {
    tok: Tok::Eof,
    pos: Position { line: 1, column: 1 },
};

const KEYWORDS: &[&str] = &[
    "if", "then", "else", "and", "or", "not", "true", "false", "null",
];

/// Operators of the four left-associative binary levels, lowest first.
fn binary_op(level: usize, tok: &Tok) -> Option<BinOp> {
    match (level, tok) {
        (0, Tok::EqEq) => Some(BinOp::Eq),
        (0, Tok::NotEq) => Some(BinOp::Ne),
        (1, Tok::Lt) => Some(BinOp::Lt),
        (1, Tok::Le) => Some(BinOp::Le),
        (1, Tok::Gt) => Some(BinOp::Gt),
        (1, Tok::Ge) => Some(BinOp::Ge),
        (2, Tok::Plus) => Some(BinOp::Add),
        (2, Tok::Minus) => Some(BinOp::Sub),
        (3, Tok::Star) => Some(BinOp::Mul),
        (3, Tok::Slash) => Some(BinOp::Div),
        (3, Tok::Percent) => Some(BinOp::Rem),
        _ => None,
    }
}

struct Parser {
    tokens: Vec<Token>,
    i: usize,
    depth: usize,
    max_depth: usize,
    attributes: Vec<String>,
}

impl Parser {
    fn peek(&self) -> &Token {
        // The token list always ends with Eof and `advance` never moves past it.
        self.tokens.get(self.i).unwrap_or(&EOF)
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if token.tok != Tok::Eof {
            self.i += 1;
        }
        token
    }

    fn is_keyword(&self, word: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(name) if name == word)
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<Token, CompileError> {
        let token = self.advance();
        if &token.tok != want {
            let msg = format!("expected {what}, found {}", token.tok.describe());
            return Err(CompileError::new(token.pos, msg));
        }
        Ok(token)
    }

    fn expect_keyword(&mut self, word: &str) -> Result<(), CompileError> {
        let token = self.advance();
        match &token.tok {
            Tok::Ident(name) if name == word => Ok(()),
            other => {
                let msg = format!("expected `{word}`, found {}", other.describe());
                Err(CompileError::new(token.pos, msg))
            }
        }
    }

    /// Builds a node, enforcing the tree depth limit.
    fn node(&self, kind: Kind, pos: Position) -> Result<Node, CompileError> {
        let depth = kind.child_depth() + 1;
        if depth > self.max_depth {
            return Err(self.too_deep(pos));
        }
        Ok(Node { kind, pos, depth })
    }

    fn too_deep(&self, pos: Position) -> CompileError {
        CompileError::new(
            pos,
            format!("expression nested too deeply (limit {})", self.max_depth),
        )
    }

    fn nested<T>(
        &mut self,
        f: fn(&mut Self) -> Result<T, CompileError>,
    ) -> Result<T, CompileError> {
        if self.depth >= self.max_depth {
            return Err(self.too_deep(self.peek().pos));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    fn expr(&mut self) -> Result<Node, CompileError> {
        self.nested(|p| p.logic(true))
    }

    /// `or` chains when `is_or`, otherwise `and` chains.
    fn logic(&mut self, is_or: bool) -> Result<Node, CompileError> {
        let (word, symbol) = if is_or {
            ("or", Tok::OrOr)
        } else {
            ("and", Tok::AndAnd)
        };
        let first = if is_or {
            self.logic(false)?
        } else {
            self.binary(0)?
        };
        let pos = first.pos;
        let mut operands = vec![first];
        while self.is_keyword(word) || self.peek().tok == symbol {
            self.advance();
            operands.push(if is_or {
                self.logic(false)?
            } else {
                self.binary(0)?
            });
        }
        if operands.len() == 1 {
            return Ok(operands.remove(0));
        }
        self.node(
            if is_or {
                Kind::Or(operands)
            } else {
                Kind::And(operands)
            },
            pos,
        )
    }

    fn binary(&mut self, level: usize) -> Result<Node, CompileError> {
        if level == 4 {
            return self.unary();
        }
        let first = self.binary(level + 1)?;
        let mut rest = Vec::new();
        while let Some(op) = binary_op(level, &self.peek().tok) {
            let pos = self.advance().pos;
            rest.push((op, pos, self.binary(level + 1)?));
        }
        if rest.is_empty() {
            return Ok(first);
        }
        let pos = first.pos;
        self.node(Kind::Chain(Box::new(first), rest), pos)
    }

    fn unary(&mut self) -> Result<Node, CompileError> {
        let pos = self.peek().pos;
        let negate = match &self.peek().tok {
            Tok::Minus => true,
            Tok::Bang => false,
            Tok::Ident(word) if word == "not" => false,
            _ => return self.postfix(),
        };
        self.advance();
        let inner = Box::new(self.nested(Self::unary)?);
        self.node(
            if negate {
                Kind::Neg(inner)
            } else {
                Kind::Not(inner)
            },
            pos,
        )
    }

    fn postfix(&mut self) -> Result<Node, CompileError> {
        let mut node = self.primary()?;
        while self.peek().tok == Tok::LBracket {
            let pos = self.advance().pos;
            let index = self.expr()?;
            self.expect(&Tok::RBracket, "`]`")?;
            node = self.node(Kind::Index(Box::new(node), Box::new(index)), pos)?;
        }
        Ok(node)
    }

    fn primary(&mut self) -> Result<Node, CompileError> {
        let token = self.advance();
        let pos = token.pos;
        let kind = match token.tok {
            Tok::Int(i) => Kind::Lit(Value::Int(i)),
            Tok::Str(s) => Kind::Lit(Value::Str(s)),
            Tok::Quoted(name) => self.attribute(name),
            Tok::LParen => {
                let inner = self.expr()?;
                self.expect(&Tok::RParen, "`)`")?;
                return Ok(inner);
            }
            Tok::Ident(word) => return self.word(word, pos),
            other => {
                let msg = format!("expected an expression, found {}", other.describe());
                return Err(CompileError::new(pos, msg));
            }
        };
        self.node(kind, pos)
    }

    fn word(&mut self, word: String, pos: Position) -> Result<Node, CompileError> {
        let kind = match word.as_str() {
            "true" => Kind::Lit(Value::Bool(true)),
            "false" => Kind::Lit(Value::Bool(false)),
            "null" => Kind::Lit(Value::Null),
            "if" => self.conditional()?,
            w if KEYWORDS.contains(&w) => {
                return Err(CompileError::new(pos, format!("unexpected keyword `{w}`")));
            }
            _ if self.peek().tok == Tok::LParen => {
                let args = self.arguments()?;
                resolve::call(&word, pos, args, &mut self.attributes)?
            }
            _ => self.attribute(word),
        };
        self.node(kind, pos)
    }

    fn attribute(&mut self, name: String) -> Kind {
        resolve::note_attribute(&mut self.attributes, &name);
        Kind::Attr(name)
    }

    fn conditional(&mut self) -> Result<Kind, CompileError> {
        let cond = self.expr()?;
        self.expect_keyword("then")?;
        let then = self.expr()?;
        self.expect_keyword("else")?;
        let otherwise = self.expr()?;
        Ok(Kind::If(Box::new([cond, then, otherwise])))
    }

    fn arguments(&mut self) -> Result<Vec<Node>, CompileError> {
        self.expect(&Tok::LParen, "`(`")?;
        let mut args = Vec::new();
        if self.peek().tok == Tok::RParen {
            self.advance();
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            let token = self.advance();
            match token.tok {
                Tok::Comma => continue,
                Tok::RParen => return Ok(args),
                other => {
                    let msg = format!("expected `,` or `)`, found {}", other.describe());
                    return Err(CompileError::new(token.pos, msg));
                }
            }
        }
    }
}
