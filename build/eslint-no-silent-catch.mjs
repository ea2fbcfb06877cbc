// `.catch(() => …)` drops the error unseen. Where that is right (a probe whose failure means
// "not there", a chain that only orders the next step, cleanup of a temp file whose failure
// changes nothing), a comment says why on the line above or the same line; everywhere else the
// error is logged or rethrown. This rule holds the code to that: a `.catch` whose handler takes
// no parameter needs such a comment.
const rule = {
  meta: {
    type: 'problem',
    schema: [],
    messages: { silent: 'This .catch drops the error: log it, or say on the line above why dropping it is safe.' },
  },
  create(context) {
    const source = context.sourceCode;
    const commentedLines = new Set(source.getAllComments().map((comment) => comment.loc.end.line));
    return {
      CallExpression(node) {
        const [handler] = node.arguments;
        if (node.callee.type !== 'MemberExpression' || node.callee.property.type !== 'Identifier' || node.callee.property.name !== 'catch')
          return;
        if (!handler || !['ArrowFunctionExpression', 'FunctionExpression'].includes(handler.type) || handler.params.length > 0) return;
        // The statement the call sits in, so a comment above a multi-line statement counts.
        let statement = node;
        while (statement.parent && !/Statement|Declaration$/.test(statement.parent.type) && statement.parent.type !== 'Program')
          statement = statement.parent;
        const top = statement.parent && statement.parent.type !== 'Program' ? statement.parent : statement;
        const lines = [
          top.loc.start.line - 1,
          top.loc.start.line,
          node.callee.property.loc.start.line - 1,
          node.callee.property.loc.start.line,
        ];
        if (!lines.some((line) => commentedLines.has(line))) context.report({ node: node.callee.property, messageId: 'silent' });
      },
    };
  },
};

export const noSilentCatchPlugin = { rules: { 'no-silent-catch': rule } };
