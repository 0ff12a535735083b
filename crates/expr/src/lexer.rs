//! Tokenizer: source text to tokens with 1-based positions.
//!
//! Keywords are returned as identifiers; the parser tells them apart.

use crate::error::{CompileError, Position};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Int(i64),
    Str(String),
    Ident(String),
    Quoted(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Bang,
    AndAnd,
    OrOr,
    Eof,
}

impl Tok {
    /// Short description for error messages (never the content of a literal).
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Int(_) => "integer literal".to_string(),
            Tok::Str(_) => "string literal".to_string(),
            Tok::Ident(name) => format!("`{name}`"),
            Tok::Quoted(_) => "quoted attribute name".to_string(),
            Tok::Eof => "end of input".to_string(),
            other => format!("`{}`", other.symbol()),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::EqEq => "==",
            Tok::NotEq => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Bang => "!",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            _ => "?",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: Position,
}

/// Splits `src` into tokens, ending with `Tok::Eof`.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, CompileError> {
    let mut lexer = Lexer {
        chars: src.chars().collect(),
        i: 0,
        line: 1,
        column: 1,
    };
    let mut out = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let end = token.tok == Tok::Eof;
        out.push(token);
        if end {
            return Ok(out);
        }
    }
}

struct Lexer {
    chars: Vec<char>,
    i: usize,
    line: usize,
    column: usize,
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn pos(&self) -> Position {
        Position {
            line: self.line,
            column: self.column,
        }
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn eat(&mut self, want: char) -> bool {
        if self.peek() == Some(want) {
            self.bump();
            return true;
        }
        false
    }

    fn next_token(&mut self) -> Result<Token, CompileError> {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
        let pos = self.pos();
        let Some(c) = self.bump() else {
            return Ok(Token { tok: Tok::Eof, pos });
        };
        let tok = match c {
            '0'..='9' => self.number(c, pos)?,
            'a'..='z' | 'A'..='Z' | '_' => self.ident(c),
            '"' | '\'' => Tok::Str(self.string(c, pos)?),
            '`' => Tok::Quoted(self.quoted(pos)?),
            _ => self.operator(c, pos)?,
        };
        Ok(Token { tok, pos })
    }

    fn operator(&mut self, c: char, pos: Position) -> Result<Tok, CompileError> {
        let tok = match c {
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            ',' => Tok::Comma,
            '+' => Tok::Plus,
            '-' => Tok::Minus,
            '*' => Tok::Star,
            '/' => Tok::Slash,
            '%' => Tok::Percent,
            '=' if self.eat('=') => Tok::EqEq,
            '=' => {
                return Err(CompileError::new(
                    pos,
                    "unexpected `=`; use `==` to compare",
                ));
            }
            '!' if self.eat('=') => Tok::NotEq,
            '!' => Tok::Bang,
            '<' if self.eat('=') => Tok::Le,
            '<' => Tok::Lt,
            '>' if self.eat('=') => Tok::Ge,
            '>' => Tok::Gt,
            '&' if self.eat('&') => Tok::AndAnd,
            '|' if self.eat('|') => Tok::OrOr,
            other => {
                return Err(CompileError::new(
                    pos,
                    format!("unexpected character {other:?}"),
                ));
            }
        };
        Ok(tok)
    }

    fn number(&mut self, first: char, pos: Position) -> Result<Tok, CompileError> {
        let mut text = String::from(first);
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            text.push(c);
            self.bump();
        }
        if self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return Err(CompileError::new(pos, "invalid number"));
        }
        text.parse::<i64>()
            .map(Tok::Int)
            .map_err(|_| CompileError::new(pos, "integer literal too large"))
    }

    fn ident(&mut self, first: char) -> Tok {
        let mut name = String::from(first);
        while let Some(c) = self
            .peek()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        {
            name.push(c);
            self.bump();
        }
        Tok::Ident(name)
    }

    fn string(&mut self, quote: char, start: Position) -> Result<String, CompileError> {
        let mut out = String::new();
        loop {
            let pos = self.pos();
            match self.bump() {
                None => return Err(CompileError::new(start, "unterminated string literal")),
                Some(c) if c == quote => return Ok(out),
                Some('\\') => out.push(self.escape(pos)?),
                Some(c) => out.push(c),
            }
        }
    }

    fn escape(&mut self, pos: Position) -> Result<char, CompileError> {
        match self.bump() {
            Some('n') => Ok('\n'),
            Some('t') => Ok('\t'),
            Some('r') => Ok('\r'),
            Some('\\') => Ok('\\'),
            Some('"') => Ok('"'),
            Some('\'') => Ok('\''),
            Some('u') => self.unicode_escape(pos),
            _ => Err(CompileError::new(pos, "unknown escape sequence")),
        }
    }

    fn unicode_escape(&mut self, pos: Position) -> Result<char, CompileError> {
        let bad = || CompileError::new(pos, "invalid \\u{…} escape (1 to 6 hex digits)");
        if !self.eat('{') {
            return Err(bad());
        }
        let mut hex = String::new();
        while let Some(c) = self.peek().filter(char::is_ascii_hexdigit) {
            hex.push(c);
            self.bump();
        }
        if !self.eat('}') || hex.is_empty() || hex.len() > 6 {
            return Err(bad());
        }
        u32::from_str_radix(&hex, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(bad)
    }

    fn quoted(&mut self, start: Position) -> Result<String, CompileError> {
        let mut name = String::new();
        loop {
            match self.bump() {
                None => return Err(CompileError::new(start, "unterminated `quoted` name")),
                Some('`') if name.is_empty() => {
                    return Err(CompileError::new(start, "empty attribute name"));
                }
                Some('`') => return Ok(name),
                Some(c) => name.push(c),
            }
        }
    }
}
