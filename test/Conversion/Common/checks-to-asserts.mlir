// RUN: qaf-opt --qaf-checks-to-asserts %s | FileCheck %s

// Without qaf's runtime a check becomes an assertion with its message.
// CHECK-LABEL: func.func @check
// CHECK-SAME: (%[[OK:.*]]: i1, %{{.*}}: index)
// CHECK: cf.assert %[[OK]], "node 'n': size {0} is wrong"
// CHECK-NOT: qaf.check
func.func @check(%ok: i1, %n: index) {
  qaf.check %ok, "node 'n': size {0} is wrong"(%n : index)
  return
}
