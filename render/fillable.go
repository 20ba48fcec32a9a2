package render

import (
	"text/template/parse"
)

// personalFields are the template fields whose values differ between two
// people on the same step: the name and the links made for them (URL is a
// check-in answer link, which carries the person's token).
var personalFields = map[string]bool{"FirstName": true, "ManageURL": true, "UnsubscribeURL": true, "URL": true}

// onlyPrinted reports whether a template uses the personal fields only by
// printing them ({{.FirstName}}) or testing whether they are set ({{with
// .ManageURL}}, {{if or .A .B}}). Then, for values that are never empty, a
// message is the template's output with each value escaped where it stands,
// and a skeleton can be filled. A field that is compared, cut, piped or
// stored in a variable changes the output in other ways, and such a message
// must be rendered in full. The tree must be looked at before html/template
// adds its escapers to it.
func onlyPrinted(t *parse.Tree) bool {
	return t == nil || t.Root == nil || walkPrinted(t.Root, false)
}

// walkPrinted checks the nodes under n; dot says whether {{.}} is a
// personal value there (inside {{with .FirstName}}).
func walkPrinted(n parse.Node, dot bool) bool {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return true
		}
		for _, c := range n.Nodes {
			if !walkPrinted(c, dot) {
				return false
			}
		}
		return true
	case *parse.ActionNode:
		return len(n.Pipe.Decl) == 0 && (isOperand(n.Pipe, false) || !mentions(n.Pipe, dot))
	case *parse.IfNode:
		return (isOperand(n.Pipe, true) || !mentions(n.Pipe, dot)) && walkPrinted(n.List, dot) && walkPrinted(n.ElseList, dot)
	case *parse.WithNode:
		inner := mentions(n.Pipe, dot)
		return (isOperand(n.Pipe, true) || !inner) && walkPrinted(n.List, inner) && walkPrinted(n.ElseList, dot)
	case *parse.RangeNode:
		return !mentions(n.Pipe, dot) && walkPrinted(n.List, false) && walkPrinted(n.ElseList, dot)
	case *parse.TemplateNode:
		return n.Pipe == nil || !mentions(n.Pipe, dot)
	}
	return true
}

// isOperand reports whether a pipeline is one value as it is ({{.X}}), or,
// when test is set, also or/and/not of such values: a test of whether
// they are set.
func isOperand(p *parse.PipeNode, test bool) bool {
	if p == nil || len(p.Decl) != 0 || len(p.Cmds) != 1 {
		return false
	}
	args := p.Cmds[0].Args
	if id, ok := args[0].(*parse.IdentifierNode); ok && test && len(args) > 1 &&
		(id.Ident == "or" || id.Ident == "and" || id.Ident == "not") {
		args = args[1:]
	} else if len(args) != 1 {
		return false
	}
	for _, a := range args {
		switch a.(type) {
		case *parse.FieldNode, *parse.ChainNode, *parse.DotNode, *parse.VariableNode:
		default:
			return false
		}
	}
	return true
}

// mentions reports whether a pipeline refers to a personal value anywhere.
func mentions(n parse.Node, dot bool) bool {
	switch n := n.(type) {
	case *parse.PipeNode:
		if n == nil {
			return false
		}
		for _, c := range n.Cmds {
			if mentions(c, dot) {
				return true
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if mentions(a, dot) {
				return true
			}
		}
	case *parse.DotNode:
		return dot
	case *parse.FieldNode:
		return personalFields[n.Ident[len(n.Ident)-1]]
	case *parse.ChainNode:
		return (len(n.Field) > 0 && personalFields[n.Field[len(n.Field)-1]]) || mentions(n.Node, dot)
	case *parse.VariableNode:
		return len(n.Ident) > 1 && personalFields[n.Ident[len(n.Ident)-1]]
	}
	return false
}
