namespace LvsEvents.Keepalived.Syntax;

public enum TokenKind
{
    Word,
    OpenBrace,
    CloseBrace,
}
