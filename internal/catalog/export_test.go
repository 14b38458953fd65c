package catalog

// DepartmentsOfSQL is the query DepartmentsOf runs, so that the plan test
// in package catalog_test checks the real query rather than a copy of it.
const DepartmentsOfSQL = departmentsOfSQL
